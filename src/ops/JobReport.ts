/**
 * What the read-only commands over many jobs (`status`, `verify`) share: they are given the
 * same things, and their reports open the same way, with how many jobs were looked at and how
 * many ended in each state. Each report adds its own per-job list and totals.
 */
import type { Logger } from "pino";
import type { Config } from "../config/configSchema.js";
import type { ConvexGateway } from "../remote/ConvexGateway.js";

export type JobRunOptions = {
  config: Config;
  gateway: ConvexGateway;
  jobIds: readonly string[];
  log?: Logger;
};

export type JobReport<State extends string> = {
  jobs: number;
  /** Every state, 0 when no job is in it. */
  counts: Record<State, number>;
};

/** The opening of a report: how many `items` there are, and how many in each of `states`. */
export function countByState<State extends string>(states: readonly State[], items: readonly { state: State }[]): JobReport<State> {
  const counts = Object.fromEntries(states.map((s) => [s, 0])) as Record<State, number>;
  for (const item of items) counts[item.state]++;
  return { jobs: items.length, counts };
}
