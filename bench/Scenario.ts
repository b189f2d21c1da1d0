/**
 * The shapes every scenario shares: what it measured (metrics with one value per run, a goal
 * judged on the median), what it checked (correctness, never speed), and the context a
 * scenario runs in (quick or full, how many runs, a scratch folder, a logger, fixtures).
 */
import type { BenchSizes } from "./benchSizes.js";
import type { Fixtures } from "./Fixtures.js";

export type Goal = { op: "<" | "<=" | ">="; value: number; text: string };

export type Metric = {
  label: string;
  unit: string;
  /** One value per run. */
  values: number[];
  goal?: Goal;
  /** Decimal places when printed. */
  digits?: number;
};

export type Check = { name: string; ok: boolean; detail: string };

export type ScenarioResult = {
  id: string;
  title: string;
  /** What was run, in a sentence or two (sizes, settings). */
  setup: string[];
  metrics: Metric[];
  checks: Check[];
  /** What limits a missed goal, and anything else worth knowing about the figures. */
  notes: string[];
  durationMs: number;
  /** How many runs the medians are over. */
  runs?: number;
  /** 1-minute load average of the machine when the scenario started and ended (noise). */
  loadAverage?: { start: number; end: number };
};

export type BenchContext = {
  quick: boolean;
  sizes: BenchSizes;
  runs: number;
  token: string;
  workDir: string;
  fixtures: Fixtures;
  log: (line: string) => void;
};

export type Scenario = {
  id: string;
  title: string;
  /** Runs when `--runs` is not given (full mode): fewer for scenarios with 60-s phases. */
  defaultRuns: number;
  run(ctx: BenchContext): Promise<ScenarioResult>;
};

export function metric(label: string, unit: string, goal?: Goal, digits = 1): Metric {
  return { label, unit, values: [], ...(goal === undefined ? {} : { goal }), digits };
}

export function check(name: string, ok: boolean, detail: string): Check {
  return { name, ok, detail };
}
