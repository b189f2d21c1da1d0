/**
 * The retrying work queue: the engine between "something about job X may have changed" and
 * `reconcile(X)`. It composes the parts that decide which key runs when, and owns what a run's
 * result means for its key: counters, failure history, timers, give-up, and shutdown. It never
 * looks inside a key or a result's error beyond the `isBackendDown` classifier it is given, and
 * it never writes anything itself (the failure marker is the caller's `onGiveUp`).
 *
 * Shape (client-go's util/workqueue):
 *
 *   add ─► KeyedQueue ─► SlotPool ──(slot)──► KeyedQueue ─► worker ─► result
 *          (dirty)       (priority order;     (running)                  │ retryPolicy
 *            ▲            gated by OutageGate)                           │
 *            └────────── KeyTimers (backoff, wait, add's afterMs) ◄──────┘
 *
 * Invariants (each one has a test in tests/engine/WorkQueue.test.ts):
 *
 * 1. Items are identities, never payloads. The worker re-reads the world, so a key needs to be
 *    remembered only as "dirty", never with what changed.
 * 2. A key that needs a run it has not started is dirty: queued keys, and running keys whose
 *    state changed during the run. A dirty key is never queued twice, so any number of `add`s
 *    before it starts collapse into one run.
 * 3. A key is queued or running, never both, and never twice in either: one key never has two
 *    concurrent runs.
 * 4. An `add` during a run marks the key dirty; when the run ends the key is queued again.
 *    This re-run is what makes the queue level-triggered: the run may have read the state
 *    before the change that caused the `add`. However many `add`s arrive, it is one re-run.
 *    A run that ends in backoff or a wait already schedules a run that will read the newest
 *    state, so the dirty mark is absorbed into that timer instead of defeating the backoff.
 * 5. A key has at most one timer. Backoff and wait timers are floors ("not before"): no `add`
 *    brings them forward, or the periodic rescan would reset every backoff. An `add` with
 *    `afterMs` sets a hint: the earliest request wins, and an immediate `add` replaces it.
 * 6. Failure history (attempts, first failure time) lives per key from its first transient
 *    failure (an outage is not one: it costs no attempt) until a run ends `done` or `failed`
 *    (a `wait` keeps it), or the key is given up. A given-up key is forgotten entirely, so its
 *    next `add` starts from attempt 1.
 * 7. Outage gating: see OutageGate.ts.
 * 8. After `close` nothing starts, no timer is left behind, and every key with work still
 *    owed is reported as abandoned.
 */
import type { Logger } from "pino";
import { KeyedQueue, type Run } from "./KeyedQueue.js";
import { KeyTimers } from "./KeyTimers.js";
import { type BackendSignal, OutageGate } from "./OutageGate.js";
import { type FailureHistory, type RetryOptions, retryPolicy } from "./retryPolicy.js";
import { SlotPool } from "./SlotPool.js";
import { checkWorkResult, type WorkContext, type WorkerFn, type WorkResult } from "./WorkResult.js";

export type { WorkContext, WorkerFn, WorkResult } from "./WorkResult.js";

export type WorkQueueOptions = RetryOptions & {
  /** Runs at once. */
  concurrency: number;
  /** Called once per give-up, while the key still counts as running (the caller writes the marker). */
  onGiveUp: (key: string, error: unknown, attempts: number) => Promise<void> | void;
  /**
   * True for errors that mean the backend as a whole is unreachable or not running. May be
   * asynchronous (the engine confirms a suspected outage with one health check); the key counts
   * as running until it answers.
   */
  isBackendDown?: (error: unknown) => boolean | Promise<boolean>;
  /** Longest pause between two outage probes, so a recovery is noticed soon. Default `backoff.maxMs`. */
  probeMaxMs?: number;
  /** Told when the queue enters (`true`) or leaves (`false`) the outage state. */
  onBackendStateChange?: (down: boolean) => void;
  /** Injectable for tests; default `Math.random`. */
  random?: () => number;
  /** Injectable for tests; default `Date.now`. */
  now?: () => number;
  log?: Logger;
};

export type WorkQueueStats = {
  /** Keys waiting for a slot. */
  queued: number;
  /** Keys running now. */
  running: number;
  /** Keys waiting on a timer (backoff, wait, or an `add` with `afterMs`). */
  backingOff: number;
  /** Runs that ended `done`. */
  done: number;
  /** Runs that ended in a transient failure and were scheduled again. */
  retried: number;
  /** Runs that ended `failed` (permanent). */
  failed: number;
  /** Keys given up after too many transient failures. */
  givenUp: number;
};

const UP: BackendSignal = { kind: "up" };
const NONE: BackendSignal = { kind: "none" };

export class WorkQueue {
  readonly #worker: WorkerFn;
  readonly #options: WorkQueueOptions;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #slots: SlotPool;
  readonly #keys: KeyedQueue;
  readonly #timers: KeyTimers;
  readonly #gate: OutageGate;
  /** Each key's current streak of transient failures (invariant 6). */
  readonly #history = new Map<string, FailureHistory>();

  #closed = false;
  #closing: Promise<{ abandoned: string[] }> | undefined;
  readonly #abandoned = new Set<string>();

  #idleWaiters: Array<() => void> = [];

  readonly #counts = { done: 0, retried: 0, failed: 0, givenUp: 0 };

  constructor(worker: WorkerFn, options: WorkQueueOptions) {
    validateOptions(options);
    this.#worker = worker;
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => Date.now());
    this.#slots = new SlotPool(options.concurrency, (key, error) => {
      // #execute settles its own outcomes; this only keeps a bug there from crashing the daemon.
      options.log?.error({ err: error, key }, `work queue: the run of ${key} failed unexpectedly`);
    });
    this.#keys = new KeyedQueue(this.#slots, (key, run) => this.#execute(key, run));
    this.#timers = new KeyTimers((key) => this.#markDirty(key), this.#now);
    const probeMaxMs = options.probeMaxMs ?? options.backoff.maxMs;
    this.#gate = new OutageGate(this.#slots, {
      probeBackoff: { baseMs: Math.min(options.backoff.baseMs, probeMaxMs), maxMs: probeMaxMs },
      random: this.#random,
      onChange: options.onBackendStateChange,
      log: options.log,
    });
  }

  /** Queued keys (waiting for a slot, including those held by an outage). */
  get size(): number {
    return this.#keys.queued;
  }

  /** Running keys. */
  get pending(): number {
    return this.#keys.running.size;
  }

  /** Keys waiting on a timer: backoff, wait, or an `add` with `afterMs`. */
  get backingOff(): number {
    return this.#timers.size;
  }

  /** True while the queue believes the backend is unreachable and runs one probe at a time. */
  get backendDown(): boolean {
    return this.#gate.down;
  }

  /** True while `key` is queued, running, or waiting on a timer: the queue still owes it work. */
  isBusy(key: string): boolean {
    return this.#keys.has(key) || this.#timers.has(key);
  }

  stats(): WorkQueueStats {
    return { queued: this.size, running: this.pending, backingOff: this.backingOff, ...this.#counts };
  }

  /**
   * Mark `key` dirty (client-go's `Add`), now or in `afterMs` (client-go's `AddAfter`; per key
   * the earliest request wins, and a backoff is never shortened). Higher `priority` runs first;
   * a key already queued is moved up, never down. Ignored after `close`.
   */
  add(key: string, opts: { priority?: number; afterMs?: number } = {}): void {
    if (this.#closed) return;
    const { priority, afterMs = 0 } = opts;
    if (afterMs !== 0) {
      this.#addLater(key, afterMs, priority);
      return;
    }
    this.#keys.raisePriority(key, priority ?? 0);
    // A floor timer already owes this key a run that will read the state as it is then.
    if (this.#timers.hasFloor(key)) return;
    this.#markDirty(key);
  }

  /** Resolves when nothing is queued, running, or waiting on a timer. */
  onIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stop: refuse new keys, drop queued ones and every timer, give running ones `deadlineMs`
   * to finish, then abort them through their signal and wait for them to return. Resolves
   * with every key that still had work owed: queued, on a timer, running at the deadline, or
   * ending during shutdown with more work to do. Calling it again returns the same promise.
   */
  close(opts: { deadlineMs: number }): Promise<{ abandoned: string[] }> {
    const { deadlineMs } = opts;
    if (!(Number.isFinite(deadlineMs) && deadlineMs >= 0)) {
      return Promise.reject(new RangeError(`Expected \`deadlineMs\` to be a finite number >= 0, got \`${deadlineMs}\``));
    }
    this.#closing ??= this.#shutdown(deadlineMs);
    return this.#closing;
  }

  /** `add` with `afterMs`: a hint timer (invariant 5); a `priority` is kept for when it is queued. */
  #addLater(key: string, afterMs: number, priority: number | undefined): void {
    if (priority !== undefined) this.#keys.raisePriority(key, priority);
    if (!(Number.isFinite(afterMs) && afterMs >= 0)) {
      throw new RangeError(`Expected \`afterMs\` for \`${key}\` to be a finite number >= 0, got \`${afterMs}\``);
    }
    // Queued: it runs sooner than asked, and the run reads the state as it is then.
    if (this.#keys.isQueued(key)) return;
    this.#timers.hint(key, afterMs);
  }

  /** Marks `key` dirty; if that queues it, a hint timer is superseded (it is about to run). */
  #markDirty(key: string): void {
    if (this.#keys.add(key)) this.#timers.delete(key);
  }

  // ── One run: execute, settle its result, finish ───────────────────────────────────────

  async #execute(key: string, run: Run): Promise<void> {
    const history = this.#history.get(key);
    let result: WorkResult;
    try {
      const ctx: WorkContext = { attempt: (history?.failures ?? 0) + 1, signal: run.controller.signal, releaseSlot: run.releaseSlot };
      if (history) ctx.firstFailureAt = history.firstFailureAt;
      result = checkWorkResult(key, await this.#worker(key, ctx));
    } catch (error) {
      // A worker that throws instead of returning is a transient failure with that error.
      result = { kind: "retry", error };
    }
    let backend = NONE;
    try {
      backend = await this.#settle(key, result);
    } finally {
      this.#finish(key, backend, run.probe);
    }
  }

  /** Record a run's outcome: counters, failure history, timers, give-up. */
  async #settle(key: string, result: WorkResult): Promise<BackendSignal> {
    switch (result.kind) {
      case "done":
        this.#counts.done += 1;
        this.#history.delete(key);
        return UP;
      case "failed":
        // The worker wrote the marker. Whatever changes the job next (the pipeline rewriting
        // job.json, `celstate-sync retry`) adds the key again, and that run starts fresh.
        this.#counts.failed += 1;
        this.#history.delete(key);
        return UP;
      case "wait":
        if (this.#closed) this.#abandoned.add(key);
        else this.#timers.setFloor(key, result.afterMs);
        return UP;
      case "retry":
        return await this.#settleRetry(key, result);
    }
  }

  async #settleRetry(key: string, result: Extract<WorkResult, { kind: "retry" }>): Promise<BackendSignal> {
    // Shutting down: the failure is most likely the abort itself. It must not cost the key an
    // attempt, let alone a failure marker; the next start of the daemon picks the key up.
    if (this.#closed) {
      this.#abandoned.add(key);
      return NONE;
    }
    const backendDown = await this.#classify(result.error);
    const failure = { at: this.#now(), afterMs: result.afterMs, backendDown };
    const decision = retryPolicy(this.#history.get(key), failure, this.#options, this.#random);
    switch (decision.kind) {
      case "hold":
        // Dirty while running, so queued again when the run ends: behind the gate, which, not
        // a per-key timer, decides when it runs (invariant 6: its history is left as it was).
        this.#counts.retried += 1;
        this.#keys.add(key);
        return { kind: "down", afterMs: result.afterMs };
      case "give-up":
        // Forget first: whatever onGiveUp does (it rewrites job.json, which wakes the watcher),
        // the key's next run is a fresh one. The key still counts as running until onGiveUp
        // resolves, so that wake-up becomes a re-run after it rather than a concurrent run.
        this.#history.delete(key);
        this.#counts.givenUp += 1;
        try {
          await this.#options.onGiveUp(key, result.error, decision.attempts);
        } catch (error) {
          this.#options.log?.error({ err: error, key }, `work queue: onGiveUp for ${key} failed`);
        }
        return UP;
      case "retry":
        this.#history.set(key, decision.history);
        this.#counts.retried += 1;
        this.#timers.setFloor(key, decision.afterMs);
        return UP;
    }
  }

  async #classify(error: unknown): Promise<boolean> {
    try {
      return (await this.#options.isBackendDown?.(error)) === true;
    } catch (classifyError) {
      // A broken classifier must not lose the key: treat the error as the key's own.
      this.#options.log?.error({ err: classifyError }, "work queue: isBackendDown threw");
      return false;
    }
  }

  /**
   * The run of `key` is over (client-go's `Done`). Order matters: the key's own books are
   * closed before the outage gate moves, because leaving an outage opens the slots, and other
   * runs then start synchronously, inside this call.
   */
  #finish(key: string, backend: BackendSignal, probe: boolean): void {
    // A key dirtied during the run runs again, unless the queue is closing (then it is
    // reported) or a floor timer already owes it a run that reads the newest state (invariant 4).
    const next = this.#keys.done(key, !this.#closed && !this.#timers.hasFloor(key));
    if (next === "requeued") this.#timers.delete(key);
    else if (next === "dropped" && this.#closed) this.#abandoned.add(key);
    this.#forgetIfSettled(key);
    if (!this.#closed) this.#gate.report(backend, probe);
    this.#checkIdle();
  }

  #forgetIfSettled(key: string): void {
    if (this.#keys.has(key) || this.#timers.has(key) || this.#history.has(key)) return;
    this.#keys.forget(key);
  }

  // ── Idle, shutdown ────────────────────────────────────────────────────────────────────

  #isIdle(): boolean {
    return this.#keys.empty && this.#timers.size === 0;
  }

  #checkIdle(): void {
    if (!this.#isIdle()) return;
    const idle = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of idle) resolve();
  }

  async #shutdown(deadlineMs: number): Promise<{ abandoned: string[] }> {
    this.#closed = true;
    for (const key of this.#timers.clear()) this.#abandoned.add(key);
    this.#gate.close();
    // Queued keys never start: the deadline is for finishing what is in flight, not for
    // draining a backlog that may be thousands of keys long. Nothing is lost by dropping
    // them: the next start-up scan finds every job that is out of sync.
    this.#slots.close();
    for (const key of this.#keys.dropQueued()) this.#abandoned.add(key);

    const running = this.#keys.running;
    if (running.size > 0) {
      const settled = Promise.all([...running.values()].map((run) => run.promise));
      let deadline: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([settled, new Promise<void>((resolve) => (deadline = setTimeout(resolve, deadlineMs)))]);
      clearTimeout(deadline);
      if (running.size > 0) {
        const reason = new DOMException(`The work queue closed and its ${deadlineMs} ms deadline passed`, "AbortError");
        for (const [key, run] of running) {
          this.#abandoned.add(key);
          run.controller.abort(reason);
        }
        // Workers must honour the signal; waiting for them means no run writes anything
        // (a marker, a commit) after close has resolved.
        await settled;
      }
    }
    this.#history.clear();
    this.#keys.clearPriorities();
    this.#checkIdle();
    return { abandoned: [...this.#abandoned] };
  }
}

function validateOptions(o: WorkQueueOptions): void {
  const check = (ok: boolean, name: string, expected: string, got: unknown) => {
    if (!ok) throw new TypeError(`Expected \`${name}\` to be ${expected}, got \`${String(got)}\``);
  };
  check(Number.isInteger(o.concurrency) && o.concurrency >= 1, "concurrency", "an integer >= 1", o.concurrency);
  check(Number.isInteger(o.maxAttempts) && o.maxAttempts >= 1, "maxAttempts", "an integer >= 1", o.maxAttempts);
  check(o.maxRetryMs >= 0, "maxRetryMs", "a number >= 0", o.maxRetryMs);
  check(Number.isFinite(o.backoff.baseMs) && o.backoff.baseMs >= 0, "backoff.baseMs", "a finite number >= 0", o.backoff.baseMs);
  check(
    Number.isFinite(o.backoff.maxMs) && o.backoff.maxMs >= o.backoff.baseMs,
    "backoff.maxMs",
    `a finite number >= backoff.baseMs (${o.backoff.baseMs})`,
    o.backoff.maxMs,
  );
  check(typeof o.onGiveUp === "function", "onGiveUp", "a function", typeof o.onGiveUp);
}
