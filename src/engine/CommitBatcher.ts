/**
 * Sends the commits of reconciles that reach their commit together as one `sync:commitMany`.
 * A commit waits a few milliseconds for company (the window, COMMIT_BATCH_WINDOW_MS); up to
 * `lanes` batches fly at once, and a commit that finds them all busy waits for one to land (and
 * then for company as above, counted from the landing). A lone commit (no other on its way)
 * goes out after the window, as a plain `sync:commit`. Each caller gets its own job's result or
 * error.
 *
 * Reconciles that are uploading say their commit is coming (`expectCommit`). How long a commit
 * waits for those is the policy's `maxWaitMs` (see `commitPolicy`): a batch leaves once it holds
 * `targetJobs`, once nothing more is coming, or once its oldest commit has waited `maxWaitMs`.
 *
 * A batch is bounded by jobs and asset rows (what `sync:commitMany` accepts) and by argument
 * bytes (MAX_COMMIT_BATCH_BYTES); a job too large to share a batch is committed alone.
 *
 * Errors: the batch is one transaction, so a refusal of any job aborts all of it and writes
 * nothing. A refusal by the functions themselves (a job's MISSING_ASSET, a refused argument, a
 * data-less "Server Error", which is also how a batch over a transaction limit fails) may be one
 * job's own, so the batch's jobs are then committed one by one, and each gets its own answer:
 * the job at fault fails alone and nobody else is marked for it. Anything else (no answer, an
 * OCC conflict, a 429, a refused token) says nothing about any one job: every job of the batch
 * gets that error, as it would have got it on its own commit, and the queue retries each.
 */
import { ConvexError } from "convex/values";
import { commitFileCount, MAX_COMMIT_ASSETS, MAX_COMMIT_BATCH, MAX_COMMIT_BATCH_BYTES } from "../../convex/lib/commitJob.js";
import { classifyError, FunctionFailure } from "../errors/classifyError.js";
import type { CommitArgs, CommitResult, ConvexGateway } from "../remote/ConvexGateway.js";
import { COMMIT_BATCH_TARGET, COMMIT_BATCH_WINDOW_MS, COMMIT_MAX_WAIT_MS } from "../timing.js";

export type CommitBatcherOptions = {
  /** How long a commit waits for company it cannot see coming. */
  windowMs?: number;
  /** How long a commit waits at most for the commits announced as coming; 0: it does not. */
  maxWaitMs?: number;
  /** A batch holding this many leaves at once, whatever is still coming. */
  targetJobs?: number;
  /** Batches in flight at once. */
  lanes?: number;
  maxJobs?: number;
  maxFiles?: number;
  maxBytes?: number;
};

/**
 * The wait policy of each mode. Which one applies is the mode's: the two want opposite things.
 *
 * - backfill: throughput with few requests. A commit waits (up to COMMIT_MAX_WAIT_MS) for the
 *   jobs still uploading, until COMMIT_BATCH_TARGET commits are gathered or none is coming, so
 *   a run costs well under 0.2 commit calls a job; two batches fly at once, so a full batch
 *   leaves while the previous one is still on its way. The wait costs the backfill nothing in
 *   throughput: a job gives its queue slot back while its commit waits and flies, and the next
 *   job uses it (SyncEngine bounds how many do).
 * - watch: latency. A live commit leaves the moment it is made, alone (a plain `sync:commit`,
 *   as before commits were batched): at 20 jobs/s even a 2 ms window and four lanes put a
 *   measured 150 ms on the live p99 (318 ms in one run, against 147–179 in earlier ones); a daemon's commits are
 *   spread over time anyway, so batching would save it little.
 */
export function commitPolicy(mode: "backfill" | "watch"): CommitBatcherOptions {
  return mode === "backfill"
    ? { windowMs: COMMIT_BATCH_WINDOW_MS, maxWaitMs: COMMIT_MAX_WAIT_MS, targetJobs: COMMIT_BATCH_TARGET, lanes: 2 }
    : { windowMs: 0, maxWaitMs: 0, targetJobs: 1, lanes: Number.POSITIVE_INFINITY };
}

type Waiting = {
  args: CommitArgs;
  since: number;
  bytes: number;
  files: number;
  resolve: (r: CommitResult) => void;
  reject: (e: unknown) => void;
};

/** The size of a commit's arguments on the wire, near enough to bound a batch. */
function argumentBytes(args: CommitArgs): number {
  return Buffer.byteLength(JSON.stringify(args));
}

/** A refusal by the deployment's functions: it may be one job's own, so the batch is split. */
function refusedByTheFunctions(e: unknown): boolean {
  if (!(e instanceof ConvexError) && !(e instanceof FunctionFailure)) return false;
  return classifyError(e).kind !== "fatal";
}

export class CommitBatcher {
  private readonly waiting: Waiting[] = [];
  private inFlight = 0;
  /** Reconciles that said a commit of theirs is coming and have not made it yet. */
  private coming = 0;
  private timer: NodeJS.Timeout | null = null;
  /** When a lane last became free: a commit that waited for the lane waits for company from then on. */
  private laneFreedAt = 0;
  private readonly windowMs: number;
  private readonly maxWaitMs: number;
  private readonly targetJobs: number;
  private readonly lanes: number;
  private readonly maxJobs: number;
  private readonly maxFiles: number;
  private readonly maxBytes: number;

  constructor(
    private readonly gateway: Pick<ConvexGateway, "commit" | "commitMany">,
    /** What is not given is the backfill's policy. */
    options: CommitBatcherOptions = {},
  ) {
    const opts = { ...commitPolicy("backfill"), ...options };
    this.windowMs = opts.windowMs ?? COMMIT_BATCH_WINDOW_MS;
    this.maxWaitMs = opts.maxWaitMs ?? COMMIT_MAX_WAIT_MS;
    this.lanes = opts.lanes ?? 1;
    this.maxJobs = opts.maxJobs ?? MAX_COMMIT_BATCH;
    this.targetJobs = Math.min(opts.targetJobs ?? this.maxJobs, this.maxJobs);
    this.maxFiles = opts.maxFiles ?? MAX_COMMIT_ASSETS;
    this.maxBytes = opts.maxBytes ?? MAX_COMMIT_BATCH_BYTES;
  }

  /**
   * Says a commit of the caller's will follow (its uploads are starting), so that commits
   * waiting meanwhile may wait for it. The returned function says it is no longer coming: call
   * it just before committing, and whenever the reconcile ends (calling it again does nothing).
   */
  expectCommit(): () => void {
    this.coming++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.coming--;
      // After the caller's own turn: its commit, made right after this, joins the batch
      // instead of finding the others already sent (which a late timer made likely).
      queueMicrotask(() => this.schedule());
    };
  }

  commit(args: CommitArgs): Promise<CommitResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ args, since: performance.now(), bytes: argumentBytes(args), files: commitFileCount(args), resolve, reject });
      this.schedule();
    });
  }

  /**
   * Sends what waits when a lane is free: at once if it holds `targetJobs`; else once the window
   * has passed (counted from a lane's landing, if the oldest waited for one) and, while other
   * commits are coming, once the oldest has waited `maxWaitMs`.
   */
  private schedule(): void {
    if (this.waiting.length === 0 || this.inFlight >= this.lanes) return;
    if (this.waiting.length >= this.targetJobs) {
      this.flush();
      return;
    }
    const oldest = this.waiting[0]!.since;
    let due = Math.max(oldest, this.laneFreedAt) + this.windowMs;
    if (this.coming > 0) due = Math.max(due, oldest + this.maxWaitMs);
    const left = due - performance.now();
    if (left <= 0) {
      this.flush();
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), left);
  }

  private flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    while (this.waiting.length > 0 && this.inFlight < this.lanes) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.send(batch).finally(() => {
        this.inFlight--;
        this.laneFreedAt = performance.now();
        this.schedule();
      });
    }
  }

  /** The longest run of waiting commits, oldest first, within the bounds (at least one). */
  private takeBatch(): Waiting[] {
    let bytes = 0;
    let files = 0;
    let n = 0;
    for (const w of this.waiting) {
      if (n > 0 && (n >= this.maxJobs || bytes + w.bytes > this.maxBytes || files + w.files > this.maxFiles)) break;
      bytes += w.bytes;
      files += w.files;
      n++;
    }
    return this.waiting.splice(0, n);
  }

  private async send(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) return await this.sendAlone(batch[0]!);
    let results: CommitResult[];
    try {
      results = await this.gateway.commitMany(batch.map((w) => w.args));
    } catch (e) {
      if (refusedByTheFunctions(e)) {
        // Nothing of the batch was written: each job alone tells whose refusal it was.
        await Promise.all(batch.map((w) => this.sendAlone(w)));
      } else {
        for (const w of batch) w.reject(e);
      }
      return;
    }
    if (results.length !== batch.length) {
      const e = new Error(`sync:commitMany answered ${results.length} results for ${batch.length} commits`);
      for (const w of batch) w.reject(e);
      return;
    }
    batch.forEach((w, k) => {
      w.resolve(results[k]!);
    });
  }

  private async sendAlone(w: Waiting): Promise<void> {
    try {
      w.resolve(await this.gateway.commit(w.args));
    } catch (e) {
      w.reject(e);
    }
  }
}
