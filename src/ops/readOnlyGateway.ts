/**
 * A view of a ConvexGateway that can only read. The operator commands (`status`, `verify`,
 * `doctor`) promise to change nothing; wrapping the gateway makes that a property of the code
 * rather than of each call path: a write reaching Convex through here is a bug and throws.
 */
import type { ConvexGateway } from "../remote/ConvexGateway.js";

export class ReadOnlyViolation extends Error {
  override readonly name = "ReadOnlyViolation";
}

function refuse(what: string): never {
  throw new ReadOnlyViolation(`${what} called through a read-only gateway: this command must not change the deployment`);
}

export function readOnlyGateway(gateway: ConvexGateway): ConvexGateway {
  return {
    handshake: () => gateway.handshake(),
    getStates: (jobIds) => gateway.getStates(jobIds),
    getPublic: (jobId) => gateway.getPublic(jobId),
    getRecord: (jobId) => gateway.getRecord(jobId),
    timeline: (jobId) => gateway.timeline(jobId),
    stats: () => gateway.stats(),
    generateUploadUrls: () => refuse("generateUploadUrls"),
    upload: () => refuse("upload"),
    commit: () => refuse("commit"),
    commitMany: () => refuse("commitMany"),
    collectGarbage: () => refuse("collectGarbage"),
  };
}
