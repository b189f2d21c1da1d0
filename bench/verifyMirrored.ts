/**
 * Whether the deployment holds each job exactly as it is on disk now: the record's updated_at
 * and hash, and every asset file (the trace included) with its sha256. Read through
 * `sync:getStates`, in batches, with the daemon's own reader for the local side.
 */
import { isoToMicros, microsToIso } from "../convex/lib/time.js";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { DEFAULT_ASSET_RULES } from "../src/local/defaultAssetRules.js";
import { readLocalJob } from "../src/local/readJob.js";
import { ConvexHttpGateway } from "../src/remote/ConvexHttpGateway.js";

export async function verifyMirrored(opts: {
  url: string;
  token: string;
  jobsDir: string;
  jobIds: string[];
}): Promise<{ mirrored: number; problems: string[] }> {
  const gateway = new ConvexHttpGateway({ url: opts.url, token: opts.token, requestTimeoutMs: 60_000, uploadTimeoutMs: 60_000 });
  const problems: string[] = [];
  let mirrored = 0;
  for (let i = 0; i < opts.jobIds.length; i += 64) {
    const ids = opts.jobIds.slice(i, i + 64);
    const states = await gateway.getStates(ids);
    for (const [k, jobId] of ids.entries()) {
      const remote = states[k] ?? null;
      const local = await readLocalJob(opts.jobsDir, jobId, DEFAULT_ASSET_RULES);
      if (remote === null) {
        problems.push(`${jobId}: not in the deployment`);
        continue;
      }
      if (remote.updatedAtUs !== isoToMicros(local.record.updatedAtIso) || remote.recordHash !== local.recordHash) {
        problems.push(`${jobId}: the deployment has updated_at ${microsToIso(remote.updatedAtUs)}, the disk ${local.record.updatedAtIso}`);
        continue;
      }
      const rows = new Map(remote.assets.map((a) => [a.filename, a]));
      let ok = true;
      for (const f of local.files) {
        const sha = createHash("sha256")
          .update(await readFile(f.absPath))
          .digest("hex");
        if (rows.get(f.filename)?.sha256 !== sha) {
          problems.push(`${jobId}: ${f.relPath} ${rows.has(f.filename) ? "differs" : "is missing"} in the deployment`);
          ok = false;
        }
      }
      if (ok) mirrored++;
    }
  }
  return { mirrored, problems };
}
