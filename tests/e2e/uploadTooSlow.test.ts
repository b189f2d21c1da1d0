/**
 * A file whose upload timed out, and that the rate uploads reach says could not have made it in
 * time, gets one clear permanent error (UPLOAD_TOO_SLOW, naming the file and its size), not
 * retries that count as an outage, and no failure marker: it is not the job's data that is
 * wrong. The stand-in reads upload bodies at a fixed rate (`uploadBytesPerSec`), as a slow link
 * would.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const MiB = 1024 * 1024;

describe("uploads within Convex's upload timeout", () => {
  it("a file too large for the timeout at the measured rate: its upload times out once, then UPLOAD_TOO_SLOW naming file and size, no marker", async () => {
    h.standin.setFaults({ uploadBytesPerSec: 2 * MiB });
    const config = h.config({ uploadTimeoutMs: 1500 });
    const gateway = h.gateway(config);
    // Files of 1 and 2 MiB: about 0.5 and 1 s at this rate, within the timeout; they measure it.
    const small = new PipelineJob(h.jobsDir, { pngBytes: 2 * MiB });
    await small.runToSuccess();
    const first = await runBackfill({ config, gateway, log: h.log, jobIds: [small.id] });
    expect(first.summary.syncedNow).toBe(1);

    // 8 MiB needs about 4 s: more than the 1.5 s allowed.
    const big = new PipelineJob(h.jobsDir, { pngBytes: 8 * MiB });
    await big.runToSuccess();
    const before = await readFile(path.join(big.dir, "job.json"), "utf8");
    const uploads = h.standin.stats().uploads;
    const attempts = gateway.stats().byFunction.upload ?? 0;
    const second = await runBackfill({ config, gateway, log: h.log, jobIds: [big.id] });

    expect(second.summary.failed).toEqual([expect.objectContaining({ jobId: big.id, code: "UPLOAD_TOO_SLOW", marker: "not written" })]);
    const reason = second.summary.failed[0]!.reason;
    expect(reason).toMatch(new RegExp(`${big.id}/outputs/${big.name}(_mask|_debug)?\\.png is \\d+ bytes`));
    expect(reason).toContain("uploadTimeoutMs");
    // Tried once, not retried as an outage: of its files only the small trace was stored (kept
    // for the job's next attempt), none of its PNGs; job.json is untouched.
    expect(h.standin.stats().uploads).toBe(uploads + 1);
    // Each of its four files tried once (three PNGs and the trace): no retry after the refusal.
    expect((gateway.stats().byFunction.upload ?? 0) - attempts).toBe(4);
    expect(await readFile(path.join(big.dir, "job.json"), "utf8")).toBe(before);
    expect(await h.getPublic(big.id)).toBeNull();
  });
});

describe("the deployment's own upload request timeout", () => {
  it("a 408 from the deployment cutting a slow upload: UPLOAD_TOO_SLOW when the measured rate says it had to, no marker", async () => {
    await h.cleanup();
    h = await createHarness({ uploadRequestTimeoutMs: 1500 });
    h.standin.setFaults({ uploadBytesPerSec: 2 * MiB });
    // The daemon's own timeout is the default 2 minutes: only the deployment's cut applies.
    const config = h.config();
    const gateway = h.gateway(config);
    const small = new PipelineJob(h.jobsDir, { pngBytes: 2 * MiB });
    await small.runToSuccess();
    expect((await runBackfill({ config, gateway, log: h.log, jobIds: [small.id] })).summary.syncedNow).toBe(1);

    const big = new PipelineJob(h.jobsDir, { pngBytes: 8 * MiB });
    await big.runToSuccess();
    const { summary } = await runBackfill({ config, gateway, log: h.log, jobIds: [big.id] });
    expect(summary.failed).toEqual([expect.objectContaining({ jobId: big.id, code: "UPLOAD_TOO_SLOW", marker: "not written" })]);
    expect(h.standin.stats().requests["POST /api/storage/upload "]?.["408"]).toBeGreaterThan(0);
    expect((await readFile(path.join(big.dir, "job.json"), "utf8")).includes("sync_failure")).toBe(false);
  });
});
