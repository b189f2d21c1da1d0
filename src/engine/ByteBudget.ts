/**
 * The global budget of upload bytes in flight. Concurrency alone does not bound memory or
 * bandwidth: eight reconciles can mean eight 2 KB traces or eight 200 MB outputs. Each upload
 * acquires its size before it starts and releases it when it ends.
 *
 * The engine holds the one instance and hands `acquire` to every reconcile; the work queue
 * bounds how many runs there are, this bounds how many bytes they upload at once. Owns only
 * the counter and its waiters; it never starts work itself.
 *
 * Invariants:
 * - Admission is strictly FIFO. A large request at the head is not overtaken by small ones that
 *   would fit, or a steady stream of small uploads could starve it forever.
 * - A request larger than the whole budget is admitted alone, when nothing else is in flight:
 *   refusing it would wedge its job for good, and admitting it alongside others would break
 *   the budget's purpose.
 * - Releasing is idempotent (a `finally` and an error path may both call it), and an aborted
 *   waiter leaves the line without ever having counted against the budget.
 */

type Waiter = {
  bytes: number;
  admit: () => void;
};

export class ByteBudget {
  readonly #maxBytes: number;
  #inFlight = 0;
  #holders = 0;
  readonly #waiters: Waiter[] = [];

  constructor(maxBytes: number) {
    if (!(Number.isFinite(maxBytes) && maxBytes > 0)) {
      throw new TypeError(`Expected \`maxBytesInFlight\` to be a finite number > 0, got \`${maxBytes}\``);
    }
    this.#maxBytes = maxBytes;
  }

  /** Bytes currently admitted. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests waiting for room. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Resolves with a release function once `bytes` fit in the budget (FIFO). Rejects with the
   * signal's reason if `signal` aborts first.
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    if (!(Number.isFinite(bytes) && bytes >= 0)) {
      return Promise.reject(new TypeError(`Expected \`bytes\` to be a finite number >= 0, got \`${bytes}\``));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiters.length === 0 && this.#fits(bytes)) return Promise.resolve(this.#take(bytes));

    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiters.indexOf(waiter);
        if (index !== -1) this.#waiters.splice(index, 1);
        reject(signal?.reason);
        // The head may have been the one blocking smaller requests behind it.
        this.#pump();
      };
      const waiter: Waiter = {
        bytes,
        admit: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(this.#take(bytes));
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #fits(bytes: number): boolean {
    return this.#holders === 0 || this.#inFlight + bytes <= this.#maxBytes;
  }

  #take(bytes: number): () => void {
    this.#inFlight += bytes;
    this.#holders += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight -= bytes;
      this.#holders -= 1;
      this.#pump();
    };
  }

  #pump(): void {
    while (this.#waiters.length > 0) {
      const head = this.#waiters[0]!;
      if (!this.#fits(head.bytes)) return;
      this.#waiters.shift();
      head.admit();
    }
  }
}
