/**
 * Convex's limit on functions running at once, per kind (queries, mutations, actions: 16 each
 * by default, `APPLICATION_MAX_FUNCTION_CONCURRENCY`): a call beyond it waits for a slot up to
 * the semaphore timeout, then is refused with 429 `TooManyConcurrentRequests` and no
 * `Retry-After` (convex-backend `application_function_runner`). Off unless configured: the
 * stand-in's engine runs one function at a time, so only calls that overlap in flight count.
 */
export type UdfKind = "query" | "mutation" | "action";

export type ConcurrencyLimit = { limit: number; waitMs: number };

/** Convex's defaults. */
export const CONVEX_CONCURRENCY: ConcurrencyLimit = { limit: 16, waitMs: 5000 };

type Slot = { release(): void };

class Semaphore {
  private inUse = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async acquire(waitMs: number): Promise<Slot | null> {
    if (this.inUse < this.limit) return this.take();
    return await new Promise<Slot | null>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(this.take());
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(wake);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(null);
      }, waitMs);
      this.waiting.push(wake);
    });
  }

  private take(): Slot {
    this.inUse++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inUse--;
        const next = this.waiting.shift();
        if (next !== undefined) next();
      },
    };
  }
}

export class ConcurrencyLimiter {
  private config: ConcurrencyLimit | null = null;
  private semaphores = new Map<UdfKind, Semaphore>();

  /** Sets the limit (null: none). Calls already holding a slot keep it. */
  configure(config: ConcurrencyLimit | null): void {
    this.config = config;
    this.semaphores = new Map();
  }

  current(): ConcurrencyLimit | null {
    return this.config;
  }

  /** A slot for one call, an always-free one without a limit, or null once the wait ran out. */
  async acquire(kind: UdfKind): Promise<Slot | null> {
    if (this.config === null) return { release: () => {} };
    let s = this.semaphores.get(kind);
    if (s === undefined) {
      s = new Semaphore(this.config.limit);
      this.semaphores.set(kind, s);
    }
    return await s.acquire(this.config.waitMs);
  }

  /** What Convex answers past the wait. */
  static refusal(kind: UdfKind, limit: number): { code: string; message: string } {
    return {
      code: "TooManyConcurrentRequests",
      message: `Too many concurrent requests. Your backend is limited to ${limit} concurrent ${kind}s. To get more resources, upgrade to Convex Pro. If you are already on Convex Pro, please contact support.`,
    };
  }
}
