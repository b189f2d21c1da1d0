/**
 * The daemon's light, periodic look at the deployment, so `backend_up` and `/readyz` follow it
 * even while no job flows (an idle daemon otherwise learns of an outage only from the next job).
 * One look is the engine's deployment check (one `sync:handshake`, a small token-checked
 * query, shared with any check already in flight) every `intervalMs`; one that has not
 * answered within `timeoutMs` counts as not answering (a deployment that drops packets answers
 * nothing for a whole request timeout).
 *
 * It only observes: it never marks a job, never gates the queue and never ends the daemon. A
 * refusal it sees counts as the deployment answering; whether a refusal is fatal is for the
 * jobs' own calls to find out (a deploy under way may refuse one handshake).
 */
import type { ProbeResult } from "../engine/DeploymentProbe.js";

export type ReachabilityProbeOptions = {
  /** One look at the deployment (`DeploymentProbe.check` with `reportFatal: false`). */
  check: () => Promise<ProbeResult>;
  intervalMs: number;
  timeoutMs: number;
  /** Each look's verdict: the result, or `null` when it did not answer within `timeoutMs`. */
  onLook: (answers: boolean, result: ProbeResult | null) => void;
};

export class ReachabilityProbe {
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;

  constructor(private readonly opts: ReachabilityProbeOptions) {}

  /** The first look at once, then one every `intervalMs` after the previous one ended. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.look();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async look(): Promise<void> {
    this.timer = null;
    let timeout: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => (timeout = setTimeout(() => resolve(null), this.opts.timeoutMs)));
    let result: ProbeResult | null;
    try {
      result = await Promise.race([this.opts.check(), timedOut]);
    } catch {
      // `check` classifies every error into a result; anything else is no answer.
      result = null;
    } finally {
      clearTimeout(timeout);
    }
    if (this.stopped) return;
    this.opts.onLook(result?.answers === true, result);
    this.timer = setTimeout(() => void this.look(), this.opts.intervalMs);
  }
}
