/**
 * `backfill` on an operator's terminal: the progress bar on stderr, the per-job log lines
 * printed above it (never glued to it, never written over), and the summary on stdout, intact,
 * after the bar's last state. The binary under a pseudo-terminal; the screen is read back
 * through a small terminal model (tests/helpers/terminalScreen.ts).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { BIN, cleanEnv } from "../helpers/runCli.js";
import { runInTerminal, shellQuote } from "../helpers/runInTerminal.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";
import { renderScreen } from "../helpers/terminalScreen.js";

let h: Harness;
let scratch: string;
beforeEach(async () => {
  h = await createHarness();
  scratch = await mkdtemp(path.join(tmpdir(), "celstate-terminal-"));
});
afterEach(async () => {
  await h.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

const env = () => cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: h.token });
const backfill = (...extra: string[]) => [process.execPath, BIN, "backfill", "--jobs-dir", h.jobsDir, ...extra].map(shellQuote).join(" ");

/** Three jobs that sync and one whose job.json cannot be parsed (an error line, and a failure). */
async function layOutJobs(): Promise<{ bad: string }> {
  for (let i = 0; i < 3; i++) await new PipelineJob(h.jobsDir).runToSuccess();
  const bad = new PipelineJob(h.jobsDir);
  await bad.queued();
  await writeFile(path.join(bad.dir, "job.json"), "{not json");
  return { bad: bad.id };
}

/** The bar as cli-progress draws it with backfill's format. */
const BAR = /^syncing [\u2588\u2591]+ \d+\/4 jobs \| [\d.]+ (B|KiB|MiB) \| [\d.]+ jobs\/s \| ETA \S+$/;
/** The first line of a pretty log entry: its time at the start of the line. */
const LOG_HEAD = /^\[\d\d:\d\d:\d\d\.\d{3}\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) \(celstate-sync\): /;
/** The summary of this run, line by line. */
const summaryLines = (bad: string) => [
  /^4 jobs in \d+\.\ds$/,
  /^ {2}in sync already {3}0$/,
  /^ {2}synced now {8}3$/,
  /^ {2}failed {12}1$/,
  /^ {2}pending {11}0$/,
  /^ {2}parked \(marker\) {3}0$/,
  /^ {2}files uploaded {4}12 \(.+\)$/,
  /^ {2}requests {10}\d+$/,
  new RegExp(`^failed ${bad}: .*JOB_JSON_UNPARSABLE.*$`),
];

/**
 * The screen just before each log entry began to print (the cursor moves and erases that
 * precede its text left out): what the operator saw between two entries.
 */
function screensBetweenEntries(raw: string): string[][] {
  const starts = [...raw.matchAll(/\[\d\d:\d\d:\d\d\.\d{3}\] /g)].map((m) => m.index);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences are what this test reads
  return starts.map((i) => renderScreen(raw.slice(0, i).replace(/(\x1b\[[0-9;?]*[@-~]|\r)+$/, "")));
}

function explain(screen: string[], raw: string): string {
  return `screen:\n${screen.join("\n")}\nraw:\n${JSON.stringify(raw)}`;
}

describe("backfill on a terminal", () => {
  it("backfill › log lines print above the bar, each on its own line, and the summary follows the bar intact", async () => {
    const { bad } = await layOutJobs();
    const r = await runInTerminal(backfill(), { env: env(), cwd: scratch });
    const screen = renderScreen(r.output);
    const why = explain(screen, r.output);
    expect(r.code, why).toBe(1);

    // The bar is on screen once, in its last state, right above the summary; nothing of it is
    // left anywhere else (glued before or after a log line).
    const bars = screen.flatMap((l, i) => (l.includes("syncing ") || l.includes("\u2591") || l.includes("\u2588") ? [i] : []));
    expect(bars, why).toHaveLength(1);
    const barAt = bars[0]!;
    expect(screen[barAt], why).toMatch(BAR);
    expect(screen[barAt], why).toContain(" 4/4 jobs");

    // The summary, whole and in order, straight after the bar, and last on the screen.
    const expected = summaryLines(bad);
    const after = screen.slice(barAt + 1);
    expect(after.length, why).toBe(expected.length);
    after.forEach((l, i) => {
      expect(l, why).toMatch(expected[i]!);
    });

    // Every log entry starts its own line above the bar: three jobs synced, one unparsable.
    const logs = screen.slice(0, barAt);
    const heads = logs.filter((l) => LOG_HEAD.test(l));
    expect(
      heads.filter((l) => l.endsWith(": synced")),
      why,
    ).toHaveLength(3);
    expect(
      heads.filter((l) => / ERROR .*JOB_JSON_UNPARSABLE/.test(l)),
      why,
    ).toHaveLength(1);
    // What is not an entry's first line is one of its fields, indented under it.
    for (const l of logs) if (!LOG_HEAD.test(l)) expect(l, why).toMatch(/^ {4}\S/);

    // And while they came, the bar stayed on screen, whole, under them.
    const between = screensBetweenEntries(r.output);
    expect(between, why).toHaveLength(4);
    for (const s of between) expect(s.at(-1), `${s.join("\n")}\n---\n${why}`).toMatch(BAR);
  });

  it("backfill › the summary goes to stdout alone, the bar and the log lines to stderr", async () => {
    const { bad } = await layOutJobs();
    const out = path.join(scratch, "summary.txt");
    const r = await runInTerminal(`${backfill()} > ${shellQuote(out)}`, { env: env(), cwd: scratch });
    const screen = renderScreen(r.output);
    const why = explain(screen, r.output);
    expect(r.code, why).toBe(1);

    const stdout = await readFile(out, "utf8");
    const expected = summaryLines(bad);
    const lines = stdout.trimEnd().split("\n");
    expect(lines.length, stdout).toBe(expected.length);
    lines.forEach((l, i) => {
      expect(l, stdout).toMatch(expected[i]!);
    });

    // On the terminal, stderr: the bar, in its last state, under the log lines; no summary.
    expect(screen.at(-1), why).toMatch(BAR);
    expect(
      screen.filter((l) => l.endsWith(": synced") && LOG_HEAD.test(l)),
      why,
    ).toHaveLength(3);
    expect(
      screen.some((l) => l.includes("jobs in")),
      why,
    ).toBe(false);
  });
});
