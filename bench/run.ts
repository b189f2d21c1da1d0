/**
 * `npm run bench -- [--scenario backfill,noop,live,rest,large,scale] [--runs N] [--quick] [--out FILE]`
 *
 * `--runs` defaults to each scenario's own (3; 2 for live and rest, whose 60-s phases keep the
 * whole run near 20 minutes on a 2-core machine) and to 1 with `--quick`.
 * Runs the scenarios, prints a table for each, and writes BENCHMARKS.md (a full run of every
 * scenario writes it at the repository root unless `--out` says otherwise; quick or partial
 * runs write only when `--out` is given). Exit code 1 if a correctness check failed; a missed
 * speed goal is reported, not an error.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { REPO } from "../tests/helpers/runCli.js";
import { describeMachine, type MachineInfo } from "./describeMachine.js";
import { renderConsole, renderMarkdown } from "./renderReport.js";
import { runBench, SCENARIOS } from "./runBench.js";
import type { ScenarioResult } from "./Scenario.js";

const USAGE = `usage: npm run bench -- [--scenario ${SCENARIOS.map((s) => s.id).join(",")}] [--runs N] [--quick] [--out FILE]
       npm run bench -- --report-from bench/out/last-run.json [--out FILE]   (re-render a saved run)`;

type SavedRun = { machine: MachineInfo; command: string; quick: boolean; totalMs: number; results: ScenarioResult[] };

async function analysis(): Promise<string> {
  return await readFile(path.join(REPO, "bench", "analysis.md"), "utf8").catch(() => "");
}

function parseOptions() {
  return parseArgs({
    options: {
      scenario: { type: "string" },
      runs: { type: "string" },
      quick: { type: "boolean" },
      out: { type: "string" },
      "report-from": { type: "string" },
      help: { type: "boolean" },
    },
  });
}

async function main(): Promise<number> {
  let values: ReturnType<typeof parseOptions>["values"];
  try {
    ({ values } = parseOptions());
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values["report-from"] !== undefined) {
    const saved = JSON.parse(await readFile(values["report-from"], "utf8")) as SavedRun;
    const out = values.out ?? path.join(REPO, "BENCHMARKS.md");
    await writeFile(out, renderMarkdown({ ...saved, analysis: await analysis() }));
    process.stderr.write(`wrote ${out}\n`);
    return 0;
  }
  const quick = values.quick ?? false;
  const scenarios =
    values.scenario
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean) ?? SCENARIOS.map((s) => s.id);
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  if (runs !== undefined && (!Number.isInteger(runs) || runs < 1)) {
    process.stderr.write(`Expected \`--runs\` to be an integer >= 1, got \`${values.runs}\`\n${USAGE}\n`);
    return 2;
  }
  const all = SCENARIOS.every((s) => scenarios.includes(s.id));
  const out = values.out ?? (!quick && all ? path.join(REPO, "BENCHMARKS.md") : null);

  const machine = describeMachine();
  const started = Date.now();
  const log = (line: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load average ${machine.loadAverageAtStart.join(", ")}`);
  const results = await runBench({
    scenarios,
    runs,
    quick,
    log,
    onResult: (r) => process.stdout.write(`\n${renderConsole(r)}\n`),
  });
  const totalMs = Date.now() - started;

  const command = [
    "npm run bench",
    ...(all && runs === undefined && !quick ? [] : ["--"]),
    ...(all ? [] : [`--scenario ${scenarios.join(",")}`]),
    ...(runs === undefined ? [] : [`--runs ${runs}`]),
    ...(quick ? ["--quick"] : []),
  ].join(" ");
  await mkdir(path.join(REPO, "bench", "out"), { recursive: true });
  const saved: SavedRun = { machine, command, quick, totalMs, results };
  await writeFile(path.join(REPO, "bench", "out", "last-run.json"), `${JSON.stringify(saved, null, 2)}\n`);
  if (out !== null) {
    await writeFile(out, renderMarkdown({ ...saved, analysis: await analysis() }));
    log(`wrote ${path.relative(process.cwd(), out) || out}`);
  }
  const failed = results.flatMap((r) => r.checks.filter((c) => !c.ok));
  log(
    `done in ${(totalMs / 60_000).toFixed(1)} min; ${failed.length === 0 ? "all correctness checks passed" : `${failed.length} correctness check(s) FAILED`}`,
  );
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
