/**
 * The start-up handshake: the token is accepted and the deployed functions speak the contract
 * this version expects. Anything else is fatal: running on would fail every job.
 */
import { API_VERSION } from "../../convex/lib/apiVersion.js";
import { classifyError } from "../errors/classifyError.js";
import { SyncError } from "../errors/SyncError.js";
import type { ConvexGateway } from "./ConvexGateway.js";

function handshakeError(e: unknown): SyncError {
  const err = classifyError(e);
  if (err.code !== "REJECTED") return err;
  return new SyncError(
    "API_MISMATCH",
    `the deployment has no working sync:handshake (deploy this version's convex/ with \`npx convex deploy\`): ${err.message}`,
    { cause: e },
  );
}

export type DeploymentInfo = { apiVersion: number; serverTimeMs: number; clockSkewMs: number; roundTripMs: number };

/**
 * `attempts` > 1 retries transient failures (an unreachable or overloaded deployment) with a
 * doubling pause from 500 ms, so a one-shot command survives a brief blip; refusals are final.
 */
export async function checkDeployment(gateway: ConvexGateway, opts: { attempts?: number } = {}): Promise<DeploymentInfo> {
  const attempts = opts.attempts ?? 1;
  let started = Date.now();
  let info: { apiVersion: number; serverTimeMs: number };
  for (let attempt = 1; ; attempt++) {
    started = Date.now();
    try {
      info = await gateway.handshake();
      break;
    } catch (e) {
      if (attempt < attempts && classifyError(e).kind === "transient") {
        await new Promise((r) => setTimeout(r, 500 * 2 ** (attempt - 1)));
        continue;
      }
      throw handshakeError(e);
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
