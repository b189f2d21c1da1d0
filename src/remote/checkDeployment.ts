/**
 * The start-up handshake: the token is accepted and the deployed functions speak the contract
 * this version expects. Anything else is fatal: running on would fail every job.
 */
import { API_VERSION } from "../../convex/lib/apiVersion.js";
import { classifyError } from "../errors/classifyError.js";
import { SyncError } from "../errors/SyncError.js";
import type { ConvexGateway } from "./ConvexGateway.js";

export type DeploymentInfo = { apiVersion: number; serverTimeMs: number; clockSkewMs: number; roundTripMs: number };

export async function checkDeployment(gateway: ConvexGateway): Promise<DeploymentInfo> {
  const started = Date.now();
  let info: { apiVersion: number; serverTimeMs: number };
  try {
    info = await gateway.handshake();
  } catch (e) {
    const err = classifyError(e);
    if (err.code === "REJECTED") {
      throw new SyncError(
        "API_MISMATCH",
        `the deployment has no working sync:handshake (deploy this version's convex/ with \`npx convex deploy\`): ${err.message}`,
        { cause: e },
      );
    }
    throw err;
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
