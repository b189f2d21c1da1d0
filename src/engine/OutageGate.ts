/**
 * The outage gate: while the backend is unreachable, one probe at a time instead of every key
 * retrying. When the backend is down every key fails for the same reason; retrying each on its
 * own backoff would turn N keys into N clients hammering a backend that is trying to come back,
 * and would burn every key's attempts on a problem none of them has.
 *
 * - A run whose failure the queue's classifier calls "backend down" enters the outage: the
 *   slots are gated (one run at a time, with a ticket). That key is held back in the queue, not
 *   on a backoff timer; so is every later key (added, woken by its timer, or a straggler that
 *   was already running and failed the same way).
 * - One probe timer, with its own backoff (attempt = consecutive failed probes), hands out the
 *   ticket. The probe is whichever key is at the head of the queue (highest priority, then
 *   oldest): a failed probe goes to the back of its priority, so one key that always fails
 *   cannot hold the gate shut alone.
 * - No key spends an attempt on an outage, the probe included (retryPolicy.ts). The probe's
 *   pause grows with each failed probe up to `probeBackoff.maxMs`, so a recovery is noticed
 *   within that time however long the outage was.
 * - Any result that is not a backend-down failure (done, failed, wait, or a failure of the key's
 *   own) leaves the outage: the slots open and everything held is released. The gate cannot tell
 *   whether that run reached the backend; if it did not, the cost is one burst of runs before
 *   the gate closes again.
 *
 * It owns the outage state, the failed-probe count and the probe timer, and moves the slots
 * between their modes; it never queues, holds or starts a key itself.
 */
import type { Logger } from "pino";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import type { SlotPool } from "./SlotPool.js";

/**
 * What a finished run tells the gate: the backend is unreachable (with the server's requested
 * delay, if any), it answered, or the run says nothing about it (shutdown).
 */
export type BackendSignal = { kind: "down"; afterMs: number | undefined } | { kind: "up" } | { kind: "none" };

export type OutageGateOptions = {
  /** The pause before a probe; attempt n follows the n-th failed probe in a row. */
  probeBackoff: BackoffOptions;
  random: () => number;
  /** Told when the gate enters (`true`) or leaves (`false`) the outage state. */
  onChange?: ((down: boolean) => void) | undefined;
  log?: Logger | undefined;
};

export class OutageGate {
  readonly #slots: Pick<SlotPool, "gate" | "admitOne" | "open">;
  readonly #options: OutageGateOptions;
  #down = false;
  #probeFailures = 0;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(slots: Pick<SlotPool, "gate" | "admitOne" | "open">, options: OutageGateOptions) {
    this.#slots = slots;
    this.#options = options;
  }

  /** True while the backend is believed unreachable and one probe at a time runs. */
  get down(): boolean {
    return this.#down;
  }

  /** A run ended with `signal`; `probe` when it was the run the gate let through. */
  report(signal: BackendSignal, probe: boolean): void {
    if (signal.kind === "down") {
      if (!this.#down) this.#enter(signal.afterMs);
      else if (probe) this.#armProbe(signal.afterMs, this.#probeFailures + 1);
      // A straggler (started before the outage) failing the same way changes nothing.
    } else if (signal.kind === "up" && this.#down) {
      this.#leave();
    }
  }

  /** No more probes (the queue is closing). */
  close(): void {
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
  }

  #enter(afterMs: number | undefined): void {
    this.#down = true;
    this.#slots.gate();
    this.#armProbe(afterMs, 1);
    this.#options.log?.warn("work queue: backend unreachable; running one probe at a time");
    this.#notify(true);
  }

  #armProbe(afterMs: number | undefined, failures: number): void {
    this.#probeFailures = failures;
    clearTimeout(this.#probeTimer);
    const delay = Math.max(afterMs ?? 0, backoffDelay(failures, this.#options.probeBackoff, this.#options.random));
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined;
      this.#slots.admitOne();
    }, delay);
  }

  #leave(): void {
    this.#down = false;
    this.#probeFailures = 0;
    this.close();
    this.#slots.open();
    this.#options.log?.info("work queue: backend reachable again; resuming full concurrency");
    this.#notify(false);
  }

  #notify(down: boolean): void {
    try {
      this.#options.onChange?.(down);
    } catch (error) {
      this.#options.log?.error({ err: error }, "work queue: onBackendStateChange failed");
    }
  }
}
