/**
 * Turns scenario results into the console tables and into BENCHMARKS.md: machine and versions,
 * the command to reproduce, a summary of every goal, then per scenario its set-up, a table of
 * medians (with min–max over the runs) against the goals, and its correctness checks.
 */
import type { MachineInfo } from "./describeMachine.js";
import type { Metric, ScenarioResult } from "./Scenario.js";
import { format, summarizeMetric } from "./summarize.js";

const PASS = "✅";
const FAIL = "❌";

function cell(m: Metric): { median: string; range: string; goal: string; verdict: string } {
  const s = summarizeMetric(m);
  const d = m.digits ?? 1;
  const unit = m.unit === "×" || m.unit === "%" || m.unit === "" ? m.unit : ` ${m.unit}`;
  return {
    median: `${format(s.median, d)}${unit}`,
    range: m.values.length > 1 ? `${format(s.min, d)}–${format(s.max, d)}` : "",
    goal: m.goal?.text ?? "",
    verdict: s.pass === null ? "" : s.pass ? PASS : FAIL,
  };
}

/** Plain-text table for the console. */
export function renderConsole(r: ScenarioResult): string {
  const rows = [
    ["metric", "median", "min–max", "goal", ""],
    ...r.metrics.map((m) => {
      const c = cell(m);
      return [m.label, c.median, c.range, c.goal, c.verdict];
    }),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const load = r.loadAverage ? `, load average ${r.loadAverage.start.toFixed(2)} → ${r.loadAverage.end.toFixed(2)}` : "";
  const out = [`== ${r.title} (${(r.durationMs / 1000).toFixed(0)} s${load})`, line(rows[0]!), ...rows.slice(1).map(line)];
  for (const c of r.checks) out.push(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join("\n");
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

export type ReportInput = {
  machine: MachineInfo;
  command: string;
  quick: boolean;
  results: ScenarioResult[];
  totalMs: number;
  /** Hand-written analysis of the misses (markdown), appended at the end. */
  analysis: string;
};

export function renderMarkdown(input: ReportInput): string {
  const { machine: m, results } = input;
  const out: string[] = [];
  out.push("# Benchmarks", "");
  out.push(
    `Written by \`bench/run.ts\` on ${m.date.slice(0, 10)} (${m.date}); the whole run took ${(input.totalMs / 60_000).toFixed(1)} min.` +
      " Every figure is the median of the scenario's runs (how many is said with each), with the min–max beside it; ratios are taken within a run, then the median of the ratios." +
      (input.quick ? " **Quick mode: tiny sizes, the figures mean nothing.**" : ""),
    "",
  );
  out.push(
    "Reproduce (the stand-in and celstate-sync run as their own processes; nothing else should run meanwhile):",
    "",
    "```sh",
    "npm ci",
    input.command,
    "```",
    "",
  );
  out.push("## Machine", "");
  out.push("| | |", "| --- | --- |");
  out.push(`| CPU | ${m.cpu}, ${m.cores} cores |`);
  out.push(`| RAM | ${m.ramGiB} GiB |`);
  out.push(`| OS | ${m.os} (${m.kernel}) |`);
  out.push(`| Node.js | ${m.node} |`);
  out.push(
    `| packages | ${Object.entries(m.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")} |`,
  );
  out.push(`| commit | ${m.commit} |`);
  out.push(`| load average at start (1, 5, 15 min) | ${m.loadAverageAtStart.join(", ")} |`);
  out.push("");

  out.push("## Goals", "");
  out.push("| scenario | goal | measured (median) | |", "| --- | --- | --- | --- |");
  for (const r of results) {
    for (const metric of r.metrics) {
      if (metric.goal === undefined) continue;
      const c = cell(metric);
      out.push(
        `| ${r.title} | ${escapeCell(metric.goal.text)} (${escapeCell(metric.label)}) | ${c.median}${c.range ? ` (${c.range})` : ""} | ${c.verdict} |`,
      );
    }
  }
  const failed = results.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => `${r.title}: ${c.name}`));
  out.push(
    "",
    failed.length === 0
      ? `Correctness checks: all ${results.reduce((n, r) => n + r.checks.length, 0)} passed.`
      : `Correctness checks FAILED: ${failed.join("; ")}.`,
    "",
  );

  results.forEach((r, i) => {
    out.push(`## ${i + 1}. ${r.title}`, "");
    if (r.runs !== undefined) out.push(`${r.runs} run${r.runs === 1 ? "" : "s"}.`, "");
    for (const s of r.setup) out.push(s, "");
    out.push("| metric | median | min–max | goal | |", "| --- | ---: | ---: | --- | --- |");
    for (const metric of r.metrics) {
      const c = cell(metric);
      out.push(`| ${escapeCell(metric.label)} | ${c.median} | ${c.range} | ${escapeCell(c.goal)} | ${c.verdict} |`);
    }
    out.push("");
    out.push("Checks:", "");
    for (const c of r.checks) out.push(`- ${c.ok ? PASS : FAIL} ${escapeCell(c.name)} — ${escapeCell(c.detail)}`);
    out.push("");
    for (const n of r.notes) out.push(`> ${n}`, "");
    const load = r.loadAverage
      ? `; load average ${r.loadAverage.start.toFixed(2)} at its start, ${r.loadAverage.end.toFixed(2)} at its end`
      : "";
    out.push(`_${(r.durationMs / 1000).toFixed(0)} s for this scenario${load}._`, "");
  });
  if (input.analysis.trim() !== "") out.push(input.analysis.trim(), "");
  return out.join("\n");
}
