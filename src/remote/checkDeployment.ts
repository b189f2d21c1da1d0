/**
 * The start-up handshake: the token is accepted and the deployed functions speak the contract
 * this version expects. A deployment that answers with something else is fatal (API_MISMATCH,
 * UNAUTHORIZED, TOKEN_NOT_CONFIGURED): running on would fail every job. A deployment that does
 * not answer, or is not running (paused, disabled, over its quota), is an outage: not ready
 * yet, and the caller waits for it (`isOutage` on the error thrown).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { API_VERSION } from "../../convex/lib/apiVersion.js";
import { classifyError } from "../errors/classifyError.js";
import { SyncError } from "../errors/SyncError.js";
import type { ConvexGateway } from "./ConvexGateway.js";

function handshakeError(e: unknown): SyncError {
  const err = classifyError(e);
  // The deployment answered, but not as sync:handshake would: other functions are deployed.
  if (err.kind !== "internal") return err;
  return new SyncError(
    "API_MISMATCH",
    `the deployment has no working sync:handshake (deploy this version's convex/ with \`npx convex deploy\`): ${err.message}`,
    { cause: e },
  );
}

export type DeploymentInfo = { apiVersion: number; serverTimeMs: number; clockSkewMs: number; roundTripMs: number };

/**
 * `attempts` > 1 retries outages and transient failures with a doubling pause from 500 ms, so a
 * one-shot command survives a brief blip; refusals are final.
 */
export async function checkDeployment(
  gateway: ConvexGateway,
  opts: { attempts?: number; signal?: AbortSignal } = {},
): Promise<DeploymentInfo> {
  const attempts = opts.attempts ?? 1;
  let started = Date.now();
  let info: { apiVersion: number; serverTimeMs: number };
  for (let attempt = 1; ; attempt++) {
    started = Date.now();
    try {
      info = await gateway.handshake();
      break;
    } catch (e) {
      const err = handshakeError(e);
      if (attempt < attempts && !opts.signal?.aborted && (err.kind === "outage" || err.kind === "transient")) {
        await sleep(500 * 2 ** (attempt - 1), undefined, opts.signal ? { signal: opts.signal } : {}).catch(() => undefined);
        if (!opts.signal?.aborted) continue;
      }
      throw err;
    }
  }
  const ended = Date.now();

  if (info.apiVersion !== API_VERSION) {
    throw new SyncError(
      "API_MISMATCH",
      `the deployment speaks sync API v${info.apiVersion}, this celstate-sync expects v${API_VERSION}: deploy this version's convex/ folder`,
    );
  }
  const roundTripMs = ended - started;
  return { ...info, roundTripMs, clockSkewMs: info.serverTimeMs - (started + roundTripMs / 2) };
}
