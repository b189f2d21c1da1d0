/**
 * The contract between the work queue and its worker (the engine's reconcile): what a run is
 * given, what it answers, and the check that an answer is one. The queue reads a result's kind
 * and delays only; the error inside is passed on, never looked into.
 */

export type WorkResult =
  /** In sync now; forget the failure history. */
  | { kind: "done" }
  /** Transient failure: back off and run again (at least `afterMs` later, when given). */
  | { kind: "retry"; error: unknown; afterMs?: number }
  /** Not an error (a file still settling): run again after `afterMs`, no attempt counted. */
  | { kind: "wait"; afterMs: number }
  /** Permanent: give up without retrying (the worker already wrote the failure marker). */
  | { kind: "failed"; error: unknown };

export type WorkContext = {
  /** 1 on a fresh run, n+1 after n transient failures in a row. */
  attempt: number;
  /** Aborted when `close` passes its deadline. */
  signal: AbortSignal;
  /** When the current run of transient failures began (epoch ms), if one did. */
  firstFailureAt?: number;
  /**
   * Gives the run's slot back while it waits on something that needs none (a commit gathering
   * company on the network side): another key may start meanwhile. The key still counts as
   * running until its run returns (no second run of it starts, an add marks it for a re-run),
   * and the queue's runs at once may exceed `concurrency` by the runs that did this: the
   * caller bounds them. Calling it again does nothing.
   */
  releaseSlot?: () => void;
};

export type WorkerFn = (key: string, ctx: WorkContext) => Promise<WorkResult>;

const isDelay = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

/**
 * `value` as a WorkResult, or a TypeError naming the key and what arrived. A malformed result
 * is a bug in the worker; the queue retries it like any transient failure.
 */
export function checkWorkResult(key: string, value: unknown): WorkResult {
  const r = value as Partial<Record<string, unknown>> | null;
  const kind = typeof r === "object" && r !== null ? r.kind : undefined;
  const ok =
    kind === "done" ||
    (kind === "failed" && "error" in r!) ||
    (kind === "wait" && isDelay(r!.afterMs)) ||
    (kind === "retry" && "error" in r! && (r!.afterMs === undefined || isDelay(r!.afterMs)));
  if (ok) return value as WorkResult;
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  throw new TypeError(`Expected the worker to return a WorkResult for \`${key}\`, got \`${shown}\``);
}
