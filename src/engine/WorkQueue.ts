/**
 * The retrying work queue: the engine between "something about job X may have changed" and
 * `reconcile(X)`. It owns which key runs when: dedupe, per-key serialisation, priorities, retry
 * with backoff, give-up, outage gating and shutdown. It never looks inside a
 * key or a result's error beyond the `isBackendDown` classifier it is given, and it never
 * writes anything itself (the failure marker is the caller's `onGiveUp`).
 *
 * Shape (client-go's util/workqueue, on top of p-queue for slots and priorities):
 *
 *   add ─► dirty ─(microtask)─► p-queue ─(slot)─► processing ─► worker ─► result
 *            ▲                  (priority,                                   │
 *            │                   paused in an outage)                        │
 *            └──── timers (addAfter, backoff, wait) ◄────────────────────────┘
 *
 * Invariants (each one has a test in tests/engine/WorkQueue.test.ts):
 *
 * 1. Items are identities, never payloads. The worker re-reads the world, so a key needs to be
 *    remembered only as "dirty", never with what changed.
 * 2. `#dirty` holds every key that needs a run it has not started: queued keys, and running
 *    keys whose state changed during the run. A dirty key is never queued twice, so any
 *    number of `add`s before it starts collapse into one run.
 * 3. `#processing` holds running keys. A key is in p-queue or in `#processing`, never both,
 *    and never twice in either: one key never has two concurrent runs.
 * 4. An `add` during a run marks the key dirty; when the run ends the key is queued again.
 *    This re-run is what makes the queue level-triggered: the run may have read the state
 *    before the change that caused the `add`. However many `add`s arrive, it is one re-run.
 *    A run that ends in backoff or a wait already schedules a run that will read the newest
 *    state, so the dirty mark is absorbed into that timer instead of defeating the backoff.
 * 5. A key has at most one timer. Backoff and wait timers are floors ("not before"): `add` and
 *    `addAfter` never bring them forward, or the periodic rescan would reset every backoff.
 *    `addAfter` timers are hints: the earliest request wins, and an `add` replaces them.
 * 6. Failure history (attempts, first failure time) lives per key from its first transient
 *    failure (an outage is not one: it costs no attempt) until a run ends `done` or `failed` (a `wait` keeps it), or the key is given up.
 *    A given-up key is forgotten entirely, so its next `add` starts from attempt 1.
 * 7. Outage gating: see the "Outage gating" section below.
 * 8. After `close` nothing starts, no timer is left behind, and every key with work still
 *    owed is reported as abandoned.
 */
import PQueue from "p-queue";
import type { Logger } from "pino";
import { backoffDelay } from "./backoff.js";
import { type FailureHistory, type RetryOptions, retryPolicy } from "./retryPolicy.js";

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
};

export type WorkerFn = (key: string, ctx: WorkContext) => Promise<WorkResult>;

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
  /** Keys waiting on a timer (backoff, wait or `addAfter`). */
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

type KeyTimer = {
  handle: ReturnType<typeof setTimeout>;
  dueAt: number;
  /** Backoff and wait timers are floors; `addAfter` timers are not (invariant 5). */
  floor: boolean;
};

/**
 * What a finished run tells the outage gate: the backend is unreachable (with the server's
 * requested delay, if any), it answered, or the run says nothing about it (shutdown).
 */
type BackendSignal = { kind: "down"; afterMs: number | undefined } | { kind: "up" } | { kind: "none" };

const UP: BackendSignal = { kind: "up" };
const NONE: BackendSignal = { kind: "none" };

export class WorkQueue {
  readonly #worker: WorkerFn;
  readonly #options: WorkQueueOptions;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #pq: PQueue;

  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** Dirty keys not yet handed to p-queue: they are pushed in one batch per microtask. */
  readonly #unflushed = new Set<string>();
  #flushScheduled = false;
  readonly #timers = new Map<string, KeyTimer>();
  readonly #history = new Map<string, FailureHistory>();
  /** Highest priority asked for a key; absent means 0. Dropped when the key is forgotten. */
  readonly #priority = new Map<string, number>();
  readonly #runs = new Map<string, Promise<void>>();
  /**
   * One controller per run rather than one for the queue: workers hang listeners on the
   * signal (fetch, AbortSignal.any), and on a signal that lives as long as the daemon those
   * would pile up; a run's signal is dropped with its run.
   */
  readonly #controllers = new Map<string, AbortController>();

  #down = false;
  #probeFailures = 0;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;

  #closed = false;
  #closing: Promise<{ abandoned: string[] }> | undefined;
  readonly #abandoned = new Set<string>();

  #idleWaiters: Array<() => void> = [];
  #drainedWaiters: Array<() => void> = [];

  readonly #counts = { done: 0, retried: 0, failed: 0, givenUp: 0 };

  constructor(worker: WorkerFn, options: WorkQueueOptions) {
    validateOptions(options);
    this.#worker = worker;
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => Date.now());
    this.#pq = new PQueue({ concurrency: options.concurrency });
  }

  /** Queued keys (waiting for a slot, including those parked by an outage). */
  get size(): number {
    let rerunning = 0;
    for (const key of this.#processing) if (this.#dirty.has(key)) rerunning += 1;
    return this.#dirty.size - rerunning;
  }

  /** Running keys. */
  get pending(): number {
    return this.#processing.size;
  }

  /** Keys waiting on a timer: backoff, wait or `addAfter`. */
  get backingOff(): number {
    return this.#timers.size;
  }

  /** True while the queue believes the backend is unreachable and runs one probe at a time. */
  get backendDown(): boolean {
    return this.#down;
  }

  /** True while `key` is queued, running, or waiting on a timer: the queue still owes it work. */
  isBusy(key: string): boolean {
    return this.#dirty.has(key) || this.#processing.has(key) || this.#timers.has(key);
  }

  stats(): WorkQueueStats {
    return { queued: this.size, running: this.pending, backingOff: this.backingOff, ...this.#counts };
  }

  /**
   * Mark `key` dirty (client-go's `Add`). Higher `priority` runs first; a key already queued
   * is moved up, never down. Ignored after `close`.
   */
  add(key: string, opts: { priority?: number } = {}): void {
    if (this.#closed) return;
    this.#raisePriority(key, opts.priority ?? 0);
    // A floor timer already owes this key a run that will read the state as it is then.
    if (this.#timers.get(key)?.floor) return;
    this.#markDirty(key);
  }

  /**
   * Mark `key` dirty in `delayMs`. Per key the earliest request wins; backoff is never shortened.
   * A `priority` is remembered for when the key is queued.
   */
  addAfter(key: string, delayMs: number, opts: { priority?: number } = {}): void {
    if (this.#closed) return;
    if (opts.priority !== undefined) this.#raisePriority(key, opts.priority);
    if (!(Number.isFinite(delayMs) && delayMs >= 0)) {
      throw new RangeError(`Expected \`delayMs\` for \`${key}\` to be a finite number >= 0, got \`${delayMs}\``);
    }
    if (delayMs === 0) return this.add(key, opts);
    // Queued: it runs sooner than asked, and the run reads the state as it is then.
    if (this.#isQueued(key)) return;
    const existing = this.#timers.get(key);
    if (existing && (existing.floor || existing.dueAt <= this.#now() + delayMs)) return;
    this.#setTimer(key, delayMs, false);
  }

  /** Resolves when nothing is queued, running, or waiting on a timer. */
  onIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Resolves when nothing is queued or running (timers may still be pending). */
  onDrained(): Promise<void> {
    if (this.#isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.#drainedWaiters.push(resolve));
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
      return Promise.reject(
        new RangeError(`Expected \`deadlineMs\` to be a finite number >= 0, got \`${deadlineMs}\``),
      );
    }
    this.#closing ??= this.#shutdown(deadlineMs);
    return this.#closing;
  }

  // ── Queueing (client-go: Add / Get / Done) ──────────────────────────────────────────────

  #isQueued(key: string): boolean {
    return this.#dirty.has(key) && !this.#processing.has(key);
  }

  #markDirty(key: string): void {
    if (this.#dirty.has(key)) return; // invariant 2: already owed a run
    this.#dirty.add(key);
    if (this.#processing.has(key)) return; // invariant 4: re-run when the current run ends
    this.#enqueue(key);
  }

  /** Precondition: `key` is dirty, not running, and has no floor timer. */
  #enqueue(key: string): void {
    // An `addAfter` hint is superseded: the key is about to run anyway.
    this.#clearTimer(key);
    this.#unflushed.add(key);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => this.#flush());
  }

  /**
   * Hand the keys dirtied in this tick to p-queue, highest priority first. Batching by
   * microtask keeps `add` from calling the worker synchronously (p-queue starts a task inside
   * its `add` when a slot is free), lets a synchronous burst of `add`s of one key collapse
   * into one run, and lets a live key added in the same tick as a start-up burst take one of
   * the free slots instead of landing behind the whole burst.
   */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    const batch = [...this.#unflushed].sort((a, b) => this.#priorityOf(b) - this.#priorityOf(a));
    this.#unflushed.clear();
    for (const key of batch) {
      // p-queue's `id` is the key, so `setPriority` can find a queued key later.
      this.#pq
        .add(() => this.#start(key), { id: key, priority: this.#priorityOf(key) })
        .catch((error: unknown) => {
          // #start settles its own outcomes; this only keeps a bug there from crashing the daemon.
          this.#options.log?.error({ err: error, key }, `work queue: the run of ${key} failed unexpectedly`);
        });
    }
  }

  #priorityOf(key: string): number {
    return this.#priority.get(key) ?? 0;
  }

  #raisePriority(key: string, priority: number): void {
    if (!Number.isFinite(priority)) {
      throw new RangeError(`Expected \`priority\` for \`${key}\` to be a finite number, got \`${priority}\``);
    }
    // Only ever raised: the start-up scan re-adding a live key at 0 must not push it back.
    if (priority <= this.#priorityOf(key)) return;
    this.#priority.set(key, priority);
    if (this.#isQueued(key) && !this.#unflushed.has(key)) this.#pq.setPriority(key, priority);
  }

  /**
   * p-queue gives `key` a slot (client-go's `Get`). Never rejects. From here on an `add` of
   * the key marks it dirty for a re-run: the worker has not read the state yet, so the re-run
   * may turn out redundant, but it is never missing.
   */
  #start(key: string): Promise<void> {
    this.#dirty.delete(key);
    this.#processing.add(key);
    // In an outage every start is the probe; pausing here, inside p-queue's start loop, is
    // what stops a second key from starting when this one ends (see `#enterOutage`).
    const probe = this.#down;
    if (probe) this.#pq.pause();
    const controller = new AbortController();
    this.#controllers.set(key, controller);
    const run = this.#execute(key, probe, controller.signal);
    this.#runs.set(key, run);
    return run;
  }

  async #execute(key: string, probe: boolean, signal: AbortSignal): Promise<void> {
    const history = this.#history.get(key);
    let result: WorkResult;
    try {
      const ctx: WorkContext = { attempt: (history?.failures ?? 0) + 1, signal };
      if (history) ctx.firstFailureAt = history.firstFailureAt;
      result = checkResult(key, await this.#worker(key, ctx));
    } catch (error) {
      // A worker that throws instead of returning is a transient failure with that error.
      result = { kind: "retry", error };
    }
    let backend = NONE;
    try {
      backend = await this.#settle(key, result);
    } finally {
      this.#finish(key, backend, probe);
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
        else this.#setTimer(key, result.afterMs, true);
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
        // Back into p-queue, which the outage keeps paused; the outage probe, not a per-key
        // timer, decides when it runs again (invariant 6: its history is left as it was).
        this.#counts.retried += 1;
        this.#dirty.add(key);
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
        this.#setTimer(key, decision.afterMs, true);
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
   * closed before the outage gate moves, because leaving an outage restores concurrency and
   * p-queue then starts other runs synchronously, inside this call.
   */
  #finish(key: string, backend: BackendSignal, probe: boolean): void {
    this.#processing.delete(key);
    this.#runs.delete(key);
    this.#controllers.delete(key);
    if (this.#dirty.has(key)) {
      if (this.#closed) {
        this.#dirty.delete(key);
        this.#abandoned.add(key);
      } else if (this.#timers.get(key)?.floor) {
        this.#dirty.delete(key); // invariant 4: absorbed into the backoff or wait timer
      } else {
        this.#enqueue(key);
      }
    }
    this.#forgetIfSettled(key);
    if (!this.#closed) this.#gate(backend, probe);
    this.#checkIdle();
  }

  #forgetIfSettled(key: string): void {
    if (this.#dirty.has(key) || this.#processing.has(key) || this.#timers.has(key) || this.#history.has(key)) return;
    this.#priority.delete(key);
  }

  // ── Timers ──────────────────────────────────────────────────────────────────────────────

  /**
   * Not unref'd on purpose: a daemon with work owed must stay alive until it is done or
   * `close` clears the timers.
   */
  #setTimer(key: string, delayMs: number, floor: boolean): void {
    this.#clearTimer(key);
    const handle = setTimeout(() => {
      this.#timers.delete(key);
      this.#markDirty(key);
    }, delayMs);
    // `dueAt` only orders `addAfter` requests against each other; the timer itself decides when.
    this.#timers.set(key, { handle, dueAt: this.#now() + delayMs, floor });
  }

  #clearTimer(key: string): void {
    const timer = this.#timers.get(key);
    if (!timer) return;
    clearTimeout(timer.handle);
    this.#timers.delete(key);
  }

  // ── Outage gating ───────────────────────────────────────────────────────────────────────
  //
  // When the backend is unreachable, every job fails for the same reason; retrying each on
  // its own backoff would turn N jobs into N clients hammering a backend that is trying to
  // come back, and would burn every job's attempts on a problem none of them has.
  //
  // - A run ending in `retry` with an error `isBackendDown` accepts enters the outage: p-queue
  //   is paused and its concurrency set to 1. That key is parked back in p-queue, not on a
  //   backoff timer; so is every later key (added, woken by its timer, or a straggler that
  //   was already running and failed the same way).
  // - One probe timer, with its own backoff (attempt = consecutive failed probes), reopens
  //   p-queue. With concurrency 1 at most one key starts, and its start pauses p-queue again,
  //   so at most one run is in flight once the stragglers have ended. The probe is whichever
  //   key is at the head of p-queue (highest priority, then oldest): a failed probe goes to
  //   the back of its priority, so one key that always fails cannot hold the gate shut alone.
  // - No key spends an attempt on an outage, the probe included: a deployment paused for an
  //   hour must not make every job give up. The probe's pause grows with each failed probe up
  //   to `probeMaxMs`, so a recovery is noticed within that time however long the outage was.
  // - Any result that is not a backend-down retry (done, failed, wait, or a retry with some
  //   other error) leaves the outage: concurrency is restored and everything parked is
  //   released. The queue cannot tell whether that run reached the backend; if it did not,
  //   the cost is one burst of `concurrency` runs before the gate closes again.

  #gate(backend: BackendSignal, probe: boolean): void {
    if (backend.kind === "down") {
      if (!this.#down) this.#enterOutage(backend.afterMs);
      else if (probe) this.#armProbe(backend.afterMs, this.#probeFailures + 1);
      // A straggler (started before the outage) failing the same way changes nothing.
    } else if (backend.kind === "up" && this.#down) {
      this.#leaveOutage();
    }
  }

  #enterOutage(afterMs: number | undefined): void {
    this.#down = true;
    // Pause before lowering concurrency: the setter runs p-queue's start loop.
    this.#pq.pause();
    this.#pq.concurrency = 1;
    this.#armProbe(afterMs, 1);
    this.#options.log?.warn("work queue: backend unreachable; running one probe at a time");
    this.#notifyBackendState(true);
  }

  #armProbe(afterMs: number | undefined, failures: number): void {
    this.#probeFailures = failures;
    clearTimeout(this.#probeTimer);
    const maxMs = this.#options.probeMaxMs ?? this.#options.backoff.maxMs;
    const backoff = { baseMs: Math.min(this.#options.backoff.baseMs, maxMs), maxMs };
    const delay = Math.max(afterMs ?? 0, backoffDelay(failures, backoff, this.#random));
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined;
      // Opens one slot: the next start (now, or when a straggler ends, or when a key arrives
      // if none is parked) is the probe, and it pauses p-queue again.
      this.#pq.start();
    }, delay);
  }

  #leaveOutage(): void {
    this.#down = false;
    this.#probeFailures = 0;
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    this.#pq.concurrency = this.#options.concurrency;
    this.#pq.start();
    this.#options.log?.info("work queue: backend reachable again; resuming full concurrency");
    this.#notifyBackendState(false);
  }

  #notifyBackendState(down: boolean): void {
    try {
      this.#options.onBackendStateChange?.(down);
    } catch (error) {
      this.#options.log?.error({ err: error }, "work queue: onBackendStateChange failed");
    }
  }

  // ── Idle, drained, shutdown ─────────────────────────────────────────────────────────────

  #isDrained(): boolean {
    return this.#dirty.size === 0 && this.#processing.size === 0;
  }

  #isIdle(): boolean {
    return this.#isDrained() && this.#timers.size === 0;
  }

  #checkIdle(): void {
    if (!this.#isDrained()) return;
    const drained = this.#drainedWaiters;
    this.#drainedWaiters = [];
    for (const resolve of drained) resolve();
    if (!this.#isIdle()) return;
    const idle = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of idle) resolve();
  }

  async #shutdown(deadlineMs: number): Promise<{ abandoned: string[] }> {
    this.#closed = true;
    for (const [key, timer] of this.#timers) {
      clearTimeout(timer.handle);
      this.#abandoned.add(key);
    }
    this.#timers.clear();
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    // Queued keys never start: the deadline is for finishing what is in flight, not for
    // draining a backlog that may be thousands of keys long. Nothing is lost by dropping
    // them: the next start-up scan finds every job that is out of sync.
    this.#pq.pause();
    this.#pq.clear();
    this.#unflushed.clear();
    for (const key of this.#dirty) {
      if (this.#processing.has(key)) continue; // reported by #finish when its run ends
      this.#dirty.delete(key);
      this.#abandoned.add(key);
    }

    if (this.#runs.size > 0) {
      const settled = Promise.all(this.#runs.values());
      let deadline: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([settled, new Promise<void>((resolve) => (deadline = setTimeout(resolve, deadlineMs)))]);
      clearTimeout(deadline);
      if (this.#processing.size > 0) {
        const reason = new DOMException(`The work queue closed and its ${deadlineMs} ms deadline passed`, "AbortError");
        for (const key of this.#processing) {
          this.#abandoned.add(key);
          this.#controllers.get(key)?.abort(reason);
        }
        // Workers must honour the signal; waiting for them means no run writes anything
        // (a marker, a commit) after close has resolved.
        await settled;
      }
    }
    this.#history.clear();
    this.#priority.clear();
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
  check(
    Number.isFinite(o.backoff.baseMs) && o.backoff.baseMs >= 0,
    "backoff.baseMs",
    "a finite number >= 0",
    o.backoff.baseMs,
  );
  check(
    Number.isFinite(o.backoff.maxMs) && o.backoff.maxMs >= o.backoff.baseMs,
    "backoff.maxMs",
    `a finite number >= backoff.baseMs (${o.backoff.baseMs})`,
    o.backoff.maxMs,
  );
  check(typeof o.onGiveUp === "function", "onGiveUp", "a function", typeof o.onGiveUp);
}

const isDelay = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

/** A malformed result is a bug in the worker; it is retried like any transient failure. */
function checkResult(key: string, value: unknown): WorkResult {
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
