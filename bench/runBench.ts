/**
 * Runs the chosen scenarios in order, with shared fixtures, and returns their results. The CLI
 * (run.ts) prints and writes them; the quick-mode test calls this directly.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { FULL_SIZES, QUICK_SIZES, withEnvOverrides } from "./benchSizes.js";
import { Fixtures } from "./Fixtures.js";
import type { BenchContext, Scenario, ScenarioResult } from "./Scenario.js";
import { backfillScenario } from "./scenarios/backfill.js";
import { largeScenario } from "./scenarios/large.js";
import { liveScenario } from "./scenarios/live.js";
import { noopScenario } from "./scenarios/noop.js";
import { restScenario } from "./scenarios/rest.js";
import { scaleScenario } from "./scenarios/scale.js";

export const SCENARIOS: readonly Scenario[] = [backfillScenario, noopScenario, liveScenario, restScenario, largeScenario, scaleScenario];

/**
 * Live latency runs before the scenarios that make the 50,000-job history. The stand-in holding
 * that history (about 900 MB) stays up, idle, until the scale-at-rest scenario; with it beside
 * them on the 2 cores, live runs stalled for up to two seconds at a time (p99 1.1–2.0 s in two
 * full runs, 278 ms for the same code with the scenario alone).
 */
const RUN_ORDER: readonly Scenario[] = [backfillScenario, liveScenario, noopScenario, restScenario, largeScenario, scaleScenario];

export type BenchOptions = {
  scenarios: string[];
  /** Runs of every scenario; by default 1 in quick mode, else each scenario's `defaultRuns`. */
  runs?: number;
  quick: boolean;
  log?: (line: string) => void;
  /** Called as each scenario finishes (the CLI prints its table then). */
  onResult?: (r: ScenarioResult) => void;
};

export async function runBench(opts: BenchOptions): Promise<ScenarioResult[]> {
  const unknown = opts.scenarios.filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length > 0) {
    throw new Error(`Expected scenarios among ${SCENARIOS.map((s) => s.id).join(", ")}, got \`${unknown.join(", ")}\``);
  }
  const log = opts.log ?? (() => undefined);
  const sizes = withEnvOverrides(opts.quick ? QUICK_SIZES : FULL_SIZES);
  const token = randomBytes(16).toString("hex");
  const workDir = await mkdtemp(path.join(tmpdir(), "celstate-bench-"));
  const fixtures = new Fixtures(workDir, sizes, token, log);
  const base: BenchContext = { quick: opts.quick, sizes, runs: 1, token, workDir, fixtures, log };
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of RUN_ORDER.filter((s) => opts.scenarios.includes(s.id))) {
      log(`-- ${scenario.title}`);
      const start = loadavg()[0]!;
      const runs = opts.runs ?? (opts.quick ? 1 : scenario.defaultRuns);
      const r = { ...(await scenario.run({ ...base, runs })), runs };
      r.loadAverage = { start, end: loadavg()[0]! };
      results.push(r);
      opts.onResult?.(r);
    }
  } finally {
    await fixtures.close();
    await rm(workDir, { recursive: true, force: true });
  }
  // Reported in the order, whatever order they ran or were named in.
  return SCENARIOS.flatMap((s) => results.filter((r) => r.id === s.id));
}
