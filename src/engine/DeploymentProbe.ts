/**
 * Does the deployment answer? One handshake answers that for the whole engine: an outage error
 * seen by one job (a network error, a data-less "Server Error", BackendIsNotRunning) only gates
 * every job once a handshake fails too, so a function failure of one job's own never throttles
 * the others; and while the deployment is down, the same check tells when it is back.
 *
 * Calls are shared: every job asking at once waits for one handshake, and an answer is reused
 * for `reuseMs`. A handshake the deployment answers with a refusal (a wrong token, other
 * functions deployed) is not an outage: the deployment counts as answering, and `onFatal` is
 * told, unless the caller only observes (`reportFatal: false`: the daemon's periodic probe,
 * which must never end the daemon).
 */
import { classifyError } from "../errors/classifyError.js";
import type { SyncError } from "../errors/SyncError.js";
import type { ConvexGateway } from "../remote/ConvexGateway.js";
import { checkDeployment, type DeploymentInfo } from "../remote/checkDeployment.js";
import { PROBE_REUSE_MS } from "../timing.js";

export type DeploymentProbeOptions = {
  gateway: ConvexGateway;
  /** How long an answer is reused (ms). */
  reuseMs?: number;
  onFatal?: (error: SyncError) => void;
  now?: () => number;
};

/** `info` when the handshake succeeded; a refusal also counts as answering, with `refusal`. */
export type ProbeResult = { answers: true; info?: DeploymentInfo; refusal?: SyncError } | { answers: false; error: SyncError };

export class DeploymentProbe {
  private inFlight: Promise<ProbeResult> | null = null;
  private last: { at: number; result: ProbeResult } | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: DeploymentProbeOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The latest answer, if one was taken. */
  get lastResult(): ProbeResult | null {
    return this.last?.result ?? null;
  }

  async check(opts: { reportFatal?: boolean } = {}): Promise<ProbeResult> {
    const reuse = this.opts.reuseMs ?? PROBE_REUSE_MS;
    let result: ProbeResult;
    if (this.last !== null && this.now() - this.last.at < reuse) result = this.last.result;
    else {
      this.inFlight ??= this.run().finally(() => (this.inFlight = null));
      result = await this.inFlight;
    }
    if (result.answers && result.refusal && opts.reportFatal !== false) this.opts.onFatal?.(result.refusal);
    return result;
  }

  private async run(): Promise<ProbeResult> {
    let result: ProbeResult;
    try {
      result = { answers: true, info: await checkDeployment(this.opts.gateway) };
    } catch (e) {
      const error = classifyError(e);
      result =
        error.kind === "outage"
          ? { answers: false, error }
          : error.kind === "fatal"
            ? { answers: true, refusal: error }
            : { answers: true };
    }
    this.last = { at: this.now(), result };
    return result;
  }
}
