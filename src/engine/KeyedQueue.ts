/**
 * The keyed queue (client-go's workqueue.Type): which keys are owed a run, which are running,
 * and handing the owed ones to the slots. One structure per concept:
 *
 *   dirty     keys owed a run they have not started: queued keys, and running keys whose
 *             state changed since their run started
 *   running   one record per running key: its promise, its abort controller, and whether it
 *             is the outage probe
 *   priority  the highest priority asked for a key; absent means 0
 *
 * A key is queued (held by the SlotPool, in priority order) exactly when it is dirty and not
 * running. This file knows nothing of results, retries, timers or outages: when a run ends, the
 * caller says whether a key dirtied meanwhile runs again.
 */
import type { SlotPool } from "./SlotPool.js";

/** What the queue keeps of a running key. */
export type Run = {
  /**
   * One per run rather than one for the queue: workers hang listeners on its signal (fetch,
   * AbortSignal.any), and on a signal that lives as long as the daemon those would pile up.
   */
  readonly controller: AbortController;
  /** It started on the outage gate's ticket: its result decides whether the gate opens. */
  readonly probe: boolean;
  /** Settles when the run is over. Set right after the record is in place (see `#start`). */
  promise: Promise<void>;
  /**
   * Gives the run's slot back before the run is over (see WorkContext.releaseSlot): another key
   * may start in it, while this key still counts as running. Calling it again does nothing.
   */
  readonly releaseSlot: () => void;
};

/** Performs the run of `key`; never rejects. */
export type RunFn = (key: string, run: Run) => Promise<void>;

export class KeyedQueue {
  readonly #dirty = new Set<string>();
  readonly #running = new Map<string, Run>();
  readonly #priority = new Map<string, number>();
  readonly #slots: Pick<SlotPool, "push" | "setPriority">;
  readonly #run: RunFn;

  constructor(slots: Pick<SlotPool, "push" | "setPriority">, run: RunFn) {
    this.#slots = slots;
    this.#run = run;
  }

  /** Keys waiting for a slot (held by an outage included). */
  get queued(): number {
    let rerunning = 0;
    for (const key of this.#running.keys()) if (this.#dirty.has(key)) rerunning += 1;
    return this.#dirty.size - rerunning;
  }

  get running(): ReadonlyMap<string, Run> {
    return this.#running;
  }

  /** Nothing queued, nothing running. */
  get empty(): boolean {
    return this.#dirty.size === 0 && this.#running.size === 0;
  }

  /** True while `key` is queued or running. */
  has(key: string): boolean {
    return this.#dirty.has(key) || this.#running.has(key);
  }

  isQueued(key: string): boolean {
    return this.#dirty.has(key) && !this.#running.has(key);
  }

  priorityOf(key: string): number {
    return this.#priority.get(key) ?? 0;
  }

  /** Raises `key`'s priority, moving it up if it is queued. Never lowers it. */
  raisePriority(key: string, priority: number): void {
    if (!Number.isFinite(priority)) {
      throw new RangeError(`Expected \`priority\` for \`${key}\` to be a finite number, got \`${priority}\``);
    }
    // Only ever raised: the start-up scan re-adding a live key at 0 must not push it back.
    if (priority <= this.priorityOf(key)) return;
    this.#priority.set(key, priority);
    if (this.isQueued(key)) this.#slots.setPriority(key, priority);
  }

  /** Forgets `key`'s priority: nothing is owed to it any more. */
  forget(key: string): void {
    this.#priority.delete(key);
  }

  /**
   * Marks `key` dirty (client-go's `Add`). True when that queued it; false when it was dirty
   * already (one run owed, however many adds) or is running (it runs again when `done`).
   */
  add(key: string): boolean {
    if (this.#dirty.has(key)) return false;
    this.#dirty.add(key);
    if (this.#running.has(key)) return false;
    this.#push(key);
    return true;
  }

  /**
   * The run of `key` is over (client-go's `Done`). A key dirtied during the run is queued again
   * if `requeue`, or else its mark is cleared; the answer says which, or `clean` if it was not
   * dirtied.
   */
  done(key: string, requeue: boolean): "requeued" | "dropped" | "clean" {
    this.#running.delete(key);
    if (!this.#dirty.has(key)) return "clean";
    if (requeue) {
      this.#push(key);
      return "requeued";
    }
    this.#dirty.delete(key);
    return "dropped";
  }

  /** Unmarks every queued key and returns them; running keys are left to `done`. */
  dropQueued(): string[] {
    const dropped: string[] = [];
    for (const key of this.#dirty) {
      if (this.#running.has(key)) continue;
      this.#dirty.delete(key);
      dropped.push(key);
    }
    return dropped;
  }

  clearPriorities(): void {
    this.#priority.clear();
  }

  #push(key: string): void {
    this.#slots.push(key, this.priorityOf(key), (ticketed) => this.#start(key, ticketed));
  }

  /**
   * `key` got a slot (client-go's `Get`). From here on an `add` of the key marks it dirty for a
   * re-run: the worker has not read the state yet, so the re-run may turn out redundant, but it
   * is never missing.
   */
  #start(key: string, probe: boolean): Promise<void> {
    this.#dirty.delete(key);
    // The record is in place before the run begins: its worker may add its own key at once.
    let freeSlot!: () => void;
    const slotFreed = new Promise<void>((resolve) => (freeSlot = resolve));
    const run: Run = { controller: new AbortController(), probe, promise: Promise.resolve(), releaseSlot: () => freeSlot() };
    this.#running.set(key, run);
    run.promise = this.#run(key, run);
    // The slot is held until the run ends or gives it back, whichever comes first.
    return Promise.race([run.promise, slotFreed]);
  }
}
