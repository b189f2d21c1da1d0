/**
 * No file outside a job folder is ever read. Secret bytes live outside the job folders, and job
 * folders point at them every way a link or a name can: a symlinked PNG, a symlinked `outputs/`
 * or `trace/`, a symlinked job.json or trace.json, a symlinked job folder, and a component that
 * lists `../../secret.png`. After an in-process backfill, a backfill by the binary and a run of
 * the watch daemon (with the pipeline rewriting every job meanwhile):
 * - no stored blob and no document holds the secret (a good job's canary proves the search works);
 * - no outside file was even read: their access times did not move (checked when the file system
 *   updates access times at all, which a control read establishes first).
 *
 * Not covered, by nature: a hard link inside a job folder is an ordinary file of that folder.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { listJobIds } from "../../src/local/listJobIds.js";
import { secretPng } from "../fixtures/bad/generators.js";
import { makePng } from "../helpers/png.js";
import { logLines } from "../reliability/reliabilityKit.js";
import { PipelineJob, writeJsonAtomic } from "../helpers/pipelineWriter.js";
import { cleanEnv, DaemonProcess, runCli } from "../helpers/runCli.js";
import { waitFor } from "../helpers/syncHarness.js";
import { allDocumentsText, createSecurityHarness, type SecurityHarness, storedBlobs } from "./securityKit.js";

let h: SecurityHarness;
let cwd: string;
const secret = randomBytes(48);
const secretHex = secret.toString("hex");
const canary = randomBytes(48);
const outsideFiles: string[] = [];
const OLD_ATIME = new Date(Date.now() - 3 * 24 * 3600_000);
const OLD_MTIME = new Date(Date.now() - 4 * 24 * 3600_000);
let atimeWorks = false;
const jobs: Record<string, PipelineJob> = {};

async function outside(file: string, data: string | Buffer): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, data);
  outsideFiles.push(file);
  return file;
}

async function goodJob(key: string): Promise<PipelineJob> {
  const j = new PipelineJob(h.jobsDir, { pngBytes: 2_000 });
  await j.runToSuccess();
  jobs[key] = j;
  return j;
}

/** The pipeline rewrites every job's record (as it would at a stage change): wakes the watcher. */
async function touchAll(): Promise<void> {
  for (const j of Object.values(jobs)) {
    if (j.id === jobs.folderLink?.id) continue;
    j.record = { ...j.record, updated_at: new Date(Date.now()).toISOString().replace("Z", "000+00:00") };
    await writeJsonAtomic(j.dir, "job.json", j.record).catch(() => undefined);
  }
}

beforeAll(async () => {
  h = await createSecurityHarness();
  cwd = await mkdtemp(path.join(tmpdir(), "celstate-outside-cwd-"));
  const o = h.outsideDir;

  // Does this file system record reads in atime at all (relatime: yes, noatime: no)?
  const control = await outside(path.join(o, "control.bin"), "control");
  await utimes(control, OLD_ATIME, OLD_MTIME);
  await readFile(control);
  atimeWorks = (await stat(control)).atimeMs > OLD_ATIME.getTime() + 1000;
  outsideFiles.pop();

  const png = await goodJob("pngLink");
  await unlink(path.join(png.dir, "outputs", `${png.name}.png`));
  await symlink(await outside(path.join(o, "secret.png"), secretPng(secret)), path.join(png.dir, "outputs", `${png.name}.png`));

  const outputs = await goodJob("outputsLink");
  await rm(path.join(outputs.dir, "outputs"), { recursive: true });
  for (const name of outputs.assetNames) await outside(path.join(o, "outputs-dir", name), secretPng(secret));
  await symlink(path.join(o, "outputs-dir"), path.join(outputs.dir, "outputs"));

  const record = await goodJob("jobJsonLink");
  await outside(
    path.join(o, "record.job.json"),
    (await readFile(path.join(record.dir, "job.json"), "utf8")).replace(String(record.record.prompt), secretHex),
  );
  await unlink(path.join(record.dir, "job.json"));
  await symlink(path.join(o, "record.job.json"), path.join(record.dir, "job.json"));

  const trace = await goodJob("traceLink");
  await unlink(path.join(trace.dir, "trace", "trace.json"));
  await symlink(
    await outside(path.join(o, "trace.json"), JSON.stringify({ secret: secretHex })),
    path.join(trace.dir, "trace", "trace.json"),
  );

  const traceDir = await goodJob("traceDirLink");
  await rm(path.join(traceDir.dir, "trace"), { recursive: true });
  await outside(path.join(o, "trace-dir", "trace.json"), JSON.stringify({ secret: secretHex }));
  await symlink(path.join(o, "trace-dir"), path.join(traceDir.dir, "trace"));

  // A whole job folder elsewhere, linked into jobs/.
  const away = new PipelineJob(o, { pngBytes: 2_000 });
  await away.runToSuccess();
  for (const name of away.assetNames) await outside(path.join(away.dir, "outputs", name), secretPng(secret));
  await symlink(away.dir, path.join(h.jobsDir, away.id));
  jobs.folderLink = away;

  // A component naming files by relative paths that lead out of the job folder.
  const dotdot = await goodJob("dotdot");
  await outside(path.join(h.jobsDir, "secret.png"), secretPng(secret));
  await outside(path.join(h.base, "secret.png"), secretPng(secret));
  const comp = dotdot.record.component as { assets: Record<string, null> };
  dotdot.record = { ...dotdot.record, component: { ...comp, assets: { ...comp.assets, "../../secret.png": null, "../secret.png": null } } };
  await writeJsonAtomic(dotdot.dir, "job.json", dotdot.record);

  // Positive control: a good job whose PNG carries the canary must be found in the blobs.
  const good = await goodJob("good");
  const goodPng = makePng(8, 8, 99);
  const iend = goodPng.length - 12;
  await writeFile(
    path.join(good.dir, "outputs", `${good.name}.png`),
    Buffer.concat([goodPng.subarray(0, iend), canary, goodPng.subarray(iend)]),
  );

  for (const f of outsideFiles) await utimes(f, OLD_ATIME, OLD_MTIME);
}, 60_000);

afterAll(async () => {
  await h.cleanup();
  await rm(cwd, { recursive: true, force: true });
});

describe("no reads outside job folders", () => {
  it("job folders › through backfill, the binary's backfill and the watch daemon, no secret byte is uploaded or stored and no outside file is read", async () => {
    const config = h.config();
    const first = await runBackfill({ config, gateway: h.gateway(config), log: h.log, jobIds: await listJobIds(h.jobsDir) });
    expect(Object.fromEntries(first.summary.failed.map((f) => [f.jobId, f.code]))).toEqual({
      [jobs.pngLink!.id]: "UNSAFE_PATH",
      [jobs.outputsLink!.id]: "UNSAFE_PATH",
      [jobs.jobJsonLink!.id]: "UNSAFE_PATH",
      [jobs.traceLink!.id]: "UNSAFE_PATH",
      [jobs.traceDirLink!.id]: "UNSAFE_PATH",
      [jobs.dotdot!.id]: "UNSAFE_PATH",
    });
    expect(await listJobIds(h.jobsDir)).not.toContain(jobs.folderLink!.id);
    expect(first.summary.syncedNow).toBe(1); // the good job

    const env = cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: h.token });
    await touchAll();
    const cli = await runCli(["backfill", "--jobs-dir", h.jobsDir, "--json", "--log-level", "warn"], { env, cwd });
    expect(cli.code, cli.stderr).toBe(1);
    // The named job folder link is refused even when asked for by id.
    const named = await runCli(["backfill", "--jobs-dir", h.jobsDir, "--job", jobs.folderLink!.id, "--json", "--log-level", "warn"], {
      env,
      cwd,
    });
    expect((JSON.parse(named.stdout) as { failed: Array<{ code: string }> }).failed.map((f) => f.code)).toEqual(["UNSAFE_PATH"]);

    const daemon = new DaemonProcess(["watch", "--jobs-dir", h.jobsDir, "--log-level", "info"], { env, cwd });
    let stop: Awaited<ReturnType<typeof daemon.stop>>;
    try {
      await daemon.waitForLog('"msg":"start-up reconcile done; watching"', 60_000);
      const logBefore = daemon.stderr.length;
      await touchAll();
      // Every job whose files lead outside is refused again once the pipeline rewrites it (the
      // rewrite replaced the symlinked job.json itself with a file, so that job now syncs).
      const refusedAgain = () =>
        new Set(
          logLines(daemon.stderr.slice(logBefore))
            .filter((l) => l.code === "UNSAFE_PATH")
            .map((l) => l.jobId as string),
        );
      const expected = [jobs.pngLink!, jobs.outputsLink!, jobs.traceLink!, jobs.traceDirLink!, jobs.dotdot!].map((j) => j.id).sort();
      await waitFor(() => expected.every((id) => refusedAgain().has(id)), {
        timeoutMs: 20_000,
        what: "the daemon refused every rewritten job again",
      });
    } finally {
      stop = await daemon.stop("SIGTERM");
    }
    expect(stop.code).toBe(0);

    const blobs = await storedBlobs(h);
    expect(blobs.length).toBeGreaterThan(0);
    expect(
      blobs.some((b) => b.includes(canary)),
      "the canary (positive control) is found in the stored blobs",
    ).toBe(true);
    for (const b of blobs) {
      expect(b.includes(secret)).toBe(false);
      expect(b.includes(Buffer.from(secretHex))).toBe(false);
    }
    expect(await allDocumentsText(h)).not.toContain(secretHex);

    if (atimeWorks) {
      // Untouched: the access time set above, to the millisecond (a read moves it to now).
      for (const f of outsideFiles) expect(Math.abs((await stat(f)).atimeMs - OLD_ATIME.getTime()), `${f} was read`).toBeLessThan(1);
    } else {
      console.info("noOutsideReads: this file system does not update access times; the never-read check was not possible");
    }
  }, 120_000);
});
