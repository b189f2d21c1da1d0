/**
 * Small statistics for noisy machines: median and range of a metric's runs, percentiles of a
 * latency sample, and whether a median meets its goal.
 */
import type { Goal, Metric } from "./Scenario.js";

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

export function meets(value: number, goal: Goal): boolean {
  if (!Number.isFinite(value)) return false;
  switch (goal.op) {
    case "<":
      return value < goal.value;
    case "<=":
      return value <= goal.value;
    case ">=":
      return value >= goal.value;
  }
}

export function format(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export type MetricSummary = { median: number; min: number; max: number; pass: boolean | null };

export function summarizeMetric(m: Metric): MetricSummary {
  const med = median(m.values);
  return {
    median: med,
    min: m.values.length ? Math.min(...m.values) : Number.NaN,
    max: m.values.length ? Math.max(...m.values) : Number.NaN,
    pass: m.goal === undefined ? null : meets(med, m.goal),
  };
}
