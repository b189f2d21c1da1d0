/**
 * Does the deployment answer? One handshake answers that for the whole engine: an outage error
 * seen by one job (a network error, a data-less "Server Error", BackendIsNotRunning) only gates
 * every job once a handshake fails too, so a function failure of one job's own never throttles
 * the others; and while the deployment is down, the same check tells when it is back.
 *
 * Calls are shared: every job asking at once waits for one handshake, and an answer is reused
 * for `reuseMs`. A handshake the deployment answers with a refusal (a wrong token, other
 * functions deployed) is not an outage: `onFatal` is told, and the deployment counts as answering.
 */
import { classifyError } from "../errors/classifyError.js";
import type { SyncError } from "../errors/SyncError.js";
import type { ConvexGateway } from "../remote/ConvexGateway.js";
import { checkDeployment, type DeploymentInfo } from "../remote/checkDeployment.js";

export type DeploymentProbeOptions = {
  gateway: ConvexGateway;
  /** How long an answer is reused (ms). */
  reuseMs?: number;
  onFatal?: (error: SyncError) => void;
  now?: () => number;
};

/** `info` when the handshake succeeded (a refusal also counts as answering, without it). */
export type ProbeResult = { answers: true; info?: DeploymentInfo } | { answers: false; error: SyncError };

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

  async check(): Promise<ProbeResult> {
    const reuse = this.opts.reuseMs ?? 1_000;
    if (this.last !== null && this.now() - this.last.at < reuse) return this.last.result;
    this.inFlight ??= this.run().finally(() => (this.inFlight = null));
    return await this.inFlight;
  }

  private async run(): Promise<ProbeResult> {
    let result: ProbeResult;
    try {
      result = { answers: true, info: await checkDeployment(this.opts.gateway) };
    } catch (e) {
      const error = classifyError(e);
      if (error.kind === "fatal") this.opts.onFatal?.(error);
      result = error.kind === "outage" ? { answers: false, error } : { answers: true };
    }
    this.last = { at: this.now(), result };
    return result;
  }
}
