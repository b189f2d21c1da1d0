/**
 * Reads remote job state in batches. Reconciles ask for one job each; asks that arrive within
 * a few milliseconds share one `sync:getStates` call. A caller that knows what comes next can
 * `read` a batch itself and `keep` a state for a job's reconcile (the engine's `checkAll`), or
 * `prefetch` a batch (`status`); a kept entry is used once, by the next reconcile of that job,
 * and then forgotten, so a retry always reads fresh state.
 *
 * A prefetched state may be a moment old. That is safe: commits are idempotent and monotonic,
 * so an old view can cost a redundant upload but never a wrong write.
 *
 * After a commit the engine `remember`s the state the deployment answered with, so the job's next reconcile
 * (the pipeline's next stage, a moment later) needs no query either. Those entries are used
 * once too, and only the newest `MAX_REMEMBERED` are kept.
 */
import { classifyError } from "../errors/classifyError.js";
import type { ConvexGateway, RemoteJobState } from "../remote/ConvexGateway.js";
import { STATE_BATCH_WINDOW_MS } from "../timing.js";

type Waiter = { resolve: (s: RemoteJobState | null) => void; reject: (e: unknown) => void };

export const MAX_REMEMBERED = 4096;

export class RemoteStateBatcher {
  private pending = new Map<string, Waiter[]>();
  private timer: NodeJS.Timeout | null = null;
  private readonly prefetched = new Map<string, RemoteJobState | null>();

  constructor(
    private readonly gateway: Pick<ConvexGateway, "getStates">,
    private readonly batchSize: number,
    private readonly windowMs = STATE_BATCH_WINDOW_MS,
  ) {}

  get(jobId: string): Promise<RemoteJobState | null> {
    if (this.prefetched.has(jobId)) {
      const state = this.prefetched.get(jobId)!;
      this.prefetched.delete(jobId);
      return Promise.resolve(state);
    }
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(jobId);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(jobId, [{ resolve, reject }]);
      if (this.pending.size >= this.batchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  /** Fetches state for these jobs now (in batches) and keeps it for their next `get`. */
  async prefetch(jobIds: string[]): Promise<void> {
    for (let i = 0; i < jobIds.length; i += this.batchSize) {
      const ids = jobIds.slice(i, i + this.batchSize);
      const states = await this.read(ids);
      ids.forEach((id, k) => {
        this.keep(id, states[k] ?? null);
      });
    }
  }

  /** Keeps a state just read for the job's next `get`. */
  keep(jobId: string, state: RemoteJobState | null): void {
    this.prefetched.set(jobId, state);
  }

  /**
   * The states of these jobs (at most one batch), in order, read now and kept nowhere: one
   * `getStates` call, split in halves when the deployment refuses it for a reason other than
   * being unreachable: a batch of unusually large job documents can exceed a transaction's read
   * limit, and that must cost a smaller batch, never a job's failure. A single id's refusal is
   * that job's own error.
   */
  async read(ids: readonly string[]): Promise<Array<RemoteJobState | null>> {
    try {
      return await this.gateway.getStates(ids);
    } catch (e) {
      // Refused, not unreachable: a batch over a transaction limit fails as a function error
      // without data ("Server Error"), which is also what a paused deployment answers. Halving
      // costs a paused deployment a few more refusals (log2 of the batch), then the error stands.
      const code = classifyError(e).code;
      if (ids.length === 1 || (code !== "SERVER_ERROR" && code !== "INTERNAL")) throw e;
      const mid = Math.ceil(ids.length / 2);
      const [a, b] = [await this.read(ids.slice(0, mid)), await this.read(ids.slice(mid))];
      return [...a, ...b];
    }
  }

  /** Keeps the state a commit just wrote for the job's next `get`. */
  remember(jobId: string, state: RemoteJobState | null): void {
    this.prefetched.delete(jobId);
    this.prefetched.set(jobId, state);
    while (this.prefetched.size > MAX_REMEMBERED + this.batchSize * 4) {
      this.prefetched.delete(this.prefetched.keys().next().value as string);
    }
  }

  /** Drops prefetched entries (e.g. after an outage, when they may be stale). */
  forget(jobId?: string): void {
    if (jobId === undefined) this.prefetched.clear();
    else this.prefetched.delete(jobId);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = [...this.pending.entries()].slice(0, this.batchSize);
    for (const [id] of batch) this.pending.delete(id);
    if (this.pending.size > 0) this.timer = setTimeout(() => this.flush(), 0);
    if (batch.length === 0) return;
    const ids = batch.map(([id]) => id);
    this.read(ids).then(
      (states) => {
        batch.forEach(([, ws], k) => {
          for (const w of ws) w.resolve(states[k] ?? null);
        });
      },
      (e: unknown) => {
        for (const [, ws] of batch) for (const w of ws) w.reject(e);
      },
    );
  }
}
