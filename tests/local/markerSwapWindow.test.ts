/**
 * The marker replaces job.json while the pipeline reads it with `exists()` then `open()`. A
 * reader in another process, checking and opening job.json in a tight loop through hundreds of
 * marker writes, must never find it missing: the swap is one atomic exchange.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { exchangeSupport } from "../../src/local/exchangePaths.js";
import { clearFailureMarker, writeFailureMarker } from "../../src/local/failureMarker.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { useTempJobsDir } from "./tempJobsDir.js";

const tmp = useTempJobsDir();

/** Python's `JobStore.get_job`: exists() then open(), counted until `stop` appears. */
const READER = `
const fs = require("node:fs");
const [file, stop] = process.argv.slice(1);
let reads = 0, missing = 0;
while (!fs.existsSync(stop)) {
  if (!fs.existsSync(file)) { missing++; continue; }
  try { fs.closeSync(fs.openSync(file, "r")); reads++; } catch { missing++; }
}
process.stdout.write(JSON.stringify({ reads, missing }));
`;

describe("marker swap", () => {
  it("marker swap › the atomic exchange is available on this system", () => {
    expect(exchangeSupport()).toEqual({ available: true });
  });

  it("marker swap › a reader in another process stat-looping job.json through 200 marker writes never finds it missing", async () => {
    const job = new PipelineJob(tmp(), { pngBytes: 1_000 });
    await job.queued();
    const file = path.join(job.dir, "job.json");
    const stop = path.join(tmp(), "stop");
    const reader = spawn(process.execPath, ["-e", READER, file, stop], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    reader.stdout.on("data", (b: Buffer) => (out += b.toString()));
    try {
      let written = 0;
      for (let i = 0; written < 200; i++) {
        // Alternate marking and clearing, so that every round is a real rewrite of job.json.
        const outcome =
          i % 2 === 0
            ? await writeFailureMarker(job.dir, job.id, { reason: `r${i}`, attempts: 1, retryable: false })
            : await clearFailureMarker(job.dir, job.id);
        if (outcome === "written" || outcome === "cleared") written++;
      }
      await mkdir(path.dirname(stop), { recursive: true });
      await writeFile(stop, "");
      await once(reader, "exit");
      const { reads, missing } = JSON.parse(out) as { reads: number; missing: number };
      expect(reads).toBeGreaterThan(1_000);
      expect(missing).toBe(0);
    } finally {
      reader.kill();
    }
  }, 60_000);
});
