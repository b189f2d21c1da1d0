import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { SyncError } from "../../src/errors/SyncError.js";
import { DEFAULT_ASSET_RULES } from "../../src/local/defaultAssetRules.js";
import { readLocalJob } from "../../src/local/readJob.js";
import type { AssetRule } from "../../src/local/types.js";
import { PipelineJob, writeJsonAtomic } from "../helpers/pipelineWriter.js";
import { makePng } from "../helpers/png.js";
import { useTempJobsDir } from "./tempJobsDir.js";

// Running as root, chmod 000 does not stop a read; EACCES is injected at `open` instead
// (job.json is opened synchronously, asset files through the promise API).
const denied = vi.hoisted(() => ({ path: "" }));
function refuse(file: unknown): void {
  if (denied.path !== "" && String(file) === denied.path) {
    throw Object.assign(new Error(`EACCES: permission denied, open '${String(file)}'`), { code: "EACCES" });
  }
}
vi.mock("node:fs/promises", async (importOriginal) => {
  const orig = await importOriginal<typeof import("node:fs/promises")>();
  const open: typeof orig.open = (async (file: Parameters<typeof orig.open>[0], ...rest: unknown[]) => {
    refuse(file);
    return (orig.open as (...a: unknown[]) => ReturnType<typeof orig.open>)(file, ...rest);
  }) as typeof orig.open;
  return { ...orig, open, default: { ...orig, open } };
});
vi.mock("node:fs", async (importOriginal) => {
  const orig = await importOriginal<typeof import("node:fs")>();
  const openSync = ((file: Parameters<typeof orig.openSync>[0], ...rest: unknown[]) => {
    refuse(file);
    return (orig.openSync as (...a: unknown[]) => number)(file, ...rest);
  }) as typeof orig.openSync;
  return { ...orig, openSync, default: { ...orig, openSync } };
});

const jobsDir = useTempJobsDir();
const SAMPLES = path.resolve(import.meta.dirname, "../fixtures/samples");
const SAMPLE_ID = "3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42";

async function rejection(p: Promise<unknown>): Promise<SyncError> {
  const e = await p.then(
    () => {
      throw new Error("expected readLocalJob to fail");
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SyncError);
  return e as SyncError;
}

/** A job folder holding one of the samples as job.json, written like the pipeline does. */
async function sampleJob(sample: string, patch: Record<string, unknown> = {}): Promise<string> {
  const dir = path.join(jobsDir(), SAMPLE_ID);
  await mkdir(dir, { recursive: true });
  const text = readFileSync(path.join(SAMPLES, `${sample}.job.json`), "utf8");
  if (Object.keys(patch).length === 0) await writeFile(path.join(dir, "job.json"), text);
  else await writeJsonAtomic(dir, "job.json", { ...(JSON.parse(text.replace(/NaN|-?Infinity/g, "0")) as object), ...patch });
  return dir;
}

async function writeRawJobJson(text: string | Buffer, id = SAMPLE_ID): Promise<void> {
  await mkdir(path.join(jobsDir(), id), { recursive: true });
  await writeFile(path.join(jobsDir(), id, "job.json"), text);
}

describe("readLocalJob › a job laid out by the pipeline", () => {
  it("readLocalJob › reads a finished job: record, roles, listed names, settled", async () => {
    const job = new PipelineJob(jobsDir(), { name: "ivy" });
    await job.runToSuccess();
    const local = await readLocalJob(jobsDir(), job.id, DEFAULT_ASSET_RULES);

    expect(local.jobId).toBe(job.id);
    expect(local.dir).toBe(job.dir);
    expect(local.settled).toBe(true);
    expect(local.marker).toBeNull();
    expect(local.record.status).toBe("succeeded");
    expect(Number.isNaN((local.record.telemetry as Record<string, number>).edge_noise)).toBe(true);
    expect(local.recordHash).toMatch(/^[0-9a-f]{64}$/);
    expect(local.listed).toEqual(["ivy.png", "ivy_mask.png", "ivy_debug.png"]);
    expect(local.files.map((f) => [f.relPath, f.role, f.filename, f.contentType])).toEqual([
      ["outputs/ivy.png", "output_png", "ivy.png", "image/png"],
      ["outputs/ivy_debug.png", "debug_png", "ivy_debug.png", "image/png"],
      ["outputs/ivy_mask.png", "mask_png", "ivy_mask.png", "image/png"],
      ["trace/trace.json", "trace_json", "trace.json", "application/json"],
    ]);
    for (const f of local.files) {
      const st = await stat(f.absPath);
      expect([f.size, f.mtimeMs, f.ino]).toEqual([st.size, st.mtimeMs, st.ino]);
      expect(f.absPath).toBe(path.join(job.dir, f.relPath));
    }
  });

  it("readLocalJob › job.json stat and text describe the same file", async () => {
    const job = new PipelineJob(jobsDir());
    await job.runToSuccess();
    const local = await readLocalJob(jobsDir(), job.id, DEFAULT_ASSET_RULES);
    const st = await stat(path.join(job.dir, "job.json"));
    expect(local.jobJson).toEqual({
      path: path.join(job.dir, "job.json"),
      size: st.size,
      mtimeMs: st.mtimeMs,
      ino: st.ino,
      text: await readFile(path.join(job.dir, "job.json"), "utf8"),
    });
    expect(Buffer.byteLength(local.jobJson.text)).toBe(local.jobJson.size);
    expect(local.raw.id).toBe(job.id);
  });

  it("readLocalJob › ignores studio/, the pipeline's temp files and our own, nothing else", async () => {
    const job = new PipelineJob(jobsDir(), { name: "ivy" });
    await job.runToSuccess();
    await writeFile(path.join(job.dir, "tmpa1b2c3d4"), "{}");
    await writeFile(path.join(job.dir, ".celstate-sync-0011223344556677.tmp"), "{}");
    await writeFile(path.join(job.dir, "trace", "tmpq9w8e7r6.json"), "{}");
    await writeFile(path.join(job.dir, "outputs", "tmpzz.png"), makePng(2, 2));
    await writeFile(path.join(job.dir, "outputs", ".hidden.png"), makePng(2, 2));
    await writeFile(path.join(job.dir, "studio", "black.png"), makePng(2, 2));
    await writeFile(path.join(job.dir, "outputs", "notes.txt"), "not an asset");
    const local = await readLocalJob(jobsDir(), job.id, DEFAULT_ASSET_RULES);
    expect(local.files.map((f) => f.relPath)).toEqual([
      "outputs/.hidden.png",
      "outputs/ivy.png",
      "outputs/ivy_debug.png",
      "outputs/ivy_mask.png",
      "outputs/tmpzz.png",
      "trace/trace.json",
    ]);
  });

  it.each(["tmp_badge", "tmpl_card", ".hidden_gem", "panel_debug", "x_mask", "$dollar", "Gold Frame ü", "星_icon"])(
    "readLocalJob › a job named %j has its three outputs in the roles the pipeline gave them",
    async (name) => {
      const job = new PipelineJob(jobsDir(), { name });
      await job.runToSuccess();
      const local = await readLocalJob(jobsDir(), job.id, DEFAULT_ASSET_RULES);
      const roles = Object.fromEntries(local.files.map((f) => [f.relPath, f.role]));
      expect(roles).toEqual({
        [`outputs/${name}.png`]: "output_png",
        [`outputs/${name}_debug.png`]: "debug_png",
        [`outputs/${name}_mask.png`]: "mask_png",
        "trace/trace.json": "trace_json",
      });
      expect(local.listed.sort()).toEqual([`${name}.png`, `${name}_debug.png`, `${name}_mask.png`].sort());
    },
  );

  it("readLocalJob › a running job without outputs/ or trace/ has no files and is not settled", async () => {
    const job = new PipelineJob(jobsDir());
    await job.queued();
    await job.running();
    const local = await readLocalJob(jobsDir(), job.id, DEFAULT_ASSET_RULES);
    expect(local.files).toEqual([]);
    expect(local.listed).toEqual([]);
    expect(local.settled).toBe(false);
  });

  it("readLocalJob › a marker that only rode along into a pipeline rewrite is not the job's state", async () => {
    await sampleJob("05-failed-rate-limit", {
      sync_failure: {
        at: "2026-11-20T14:05:00.000000+00:00",
        attempts: 4,
        reason: "x",
        retryable: true,
        previous: { status: "running", progress_stage: "generating", error: null },
      },
    });
    expect((await readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES)).marker).toBeNull();
  });

  it("readLocalJob › reads the failure marker when job.json shows its state", async () => {
    await sampleJob("05-failed-rate-limit", {
      error: `[TraceID: ${SAMPLE_ID}] Convex sync failed: x`,
      sync_failure: {
        at: "2026-11-20T14:05:00.000000+00:00",
        attempts: 4,
        reason: "x",
        retryable: true,
        previous: { status: "running", progress_stage: "generating", error: null },
      },
    });
    const local = await readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES);
    expect(local.marker).toEqual({
      at: "2026-11-20T14:05:00.000000+00:00",
      attempts: 4,
      reason: "x",
      retryable: true,
      previous: { status: "running", progress_stage: "generating", error: null },
    });
    expect(local.settled).toBe(true);
  });

  it("readLocalJob › a malformed marker is not a marker", async () => {
    await sampleJob("05-failed-rate-limit", { sync_failure: "oops" });
    expect((await readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES)).marker).toBeNull();
  });

  it("readLocalJob › follows custom rules into nested folders", async () => {
    const job = new PipelineJob(jobsDir(), { name: "ivy" });
    await job.runToSuccess();
    await mkdir(path.join(job.dir, "outputs", "extra", "deep"), { recursive: true });
    await writeFile(path.join(job.dir, "outputs", "extra", "deep", "more.png"), makePng(2, 2));
    const rules: AssetRule[] = [{ match: "outputs/**/*.png", role: "output_png", contentType: "image/png" }];
    const local = await readLocalJob(jobsDir(), job.id, rules);
    expect(local.files.map((f) => f.relPath)).toEqual([
      "outputs/extra/deep/more.png",
      "outputs/ivy.png",
      "outputs/ivy_debug.png",
      "outputs/ivy_mask.png",
    ]);
  });
});

describe("readLocalJob › unsafe paths", () => {
  it("readLocalJob › refuses an output that is a symlink to a file outside the job", async () => {
    const job = new PipelineJob(jobsDir());
    await job.runToSuccess();
    await writeFile(path.join(jobsDir(), "secret.txt"), "secret");
    await symlink(path.join(jobsDir(), "secret.txt"), path.join(job.dir, "outputs", "evil.png"));
    const e = await rejection(readLocalJob(jobsDir(), job.id, DEFAULT_ASSET_RULES));
    expect(e.code).toBe("UNSAFE_PATH");
    expect(e.jobId).toBe(job.id);
    expect(e.file).toBe(`${job.id}/outputs/evil.png`);
    expect(e.message).toContain("outputs/evil.png is a symlink");
  });

  it("readLocalJob › refuses a folder named like a PNG", async () => {
    const job = new PipelineJob(jobsDir());
    await job.runToSuccess();
    await mkdir(path.join(job.dir, "outputs", "x.png"));
    const e = await rejection(readLocalJob(jobsDir(), job.id, DEFAULT_ASSET_RULES));
    expect(e.code).toBe("UNSAFE_PATH");
    expect(e.file).toBe(`${job.id}/outputs/x.png`);
    expect(e.message).toContain("is not a regular file (a folder)");
  });

  it("readLocalJob › refuses a FIFO named like the trace without blocking on it", async () => {
    const job = new PipelineJob(jobsDir());
    await job.queued();
    await mkdir(path.join(job.dir, "trace"));
    execFileSync("mkfifo", [path.join(job.dir, "trace", "trace.json")]);
    const e = await rejection(readLocalJob(jobsDir(), job.id, DEFAULT_ASSET_RULES));
    expect(e.code).toBe("UNSAFE_PATH");
    expect(e.message).toContain("a special file");
  });

  it("readLocalJob › refuses an outputs/ folder that is a symlink", async () => {
    const job = new PipelineJob(jobsDir());
    await job.queued();
    const elsewhere = path.join(jobsDir(), ".elsewhere");
    await mkdir(elsewhere);
    await writeFile(path.join(elsewhere, "a.png"), makePng(2, 2));
    await symlink(elsewhere, path.join(job.dir, "outputs"));
    const e = await rejection(readLocalJob(jobsDir(), job.id, DEFAULT_ASSET_RULES));
    expect(e.code).toBe("UNSAFE_PATH");
    expect(e.file).toBe(`${job.id}/outputs`);
  });

  it("readLocalJob › refuses a job folder that is a symlink", async () => {
    const real = path.join(jobsDir(), ".real");
    const job = new PipelineJob(real, { id: SAMPLE_ID });
    await job.queued();
    await symlink(job.dir, path.join(jobsDir(), SAMPLE_ID));
    const e = await rejection(readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES));
    expect(e.code).toBe("UNSAFE_PATH");
    expect(e.message).toContain("job folder is a symlink");
  });

  it("readLocalJob › refuses a job.json that is a symlink or a folder", async () => {
    await mkdir(path.join(jobsDir(), SAMPLE_ID));
    await symlink(path.join(SAMPLES, "01-queued.job.json"), path.join(jobsDir(), SAMPLE_ID, "job.json"));
    expect((await rejection(readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES))).code).toBe("UNSAFE_PATH");

    await mkdir(path.join(jobsDir(), "b", "job.json"), { recursive: true });
    const e = await rejection(readLocalJob(jobsDir(), "b", DEFAULT_ASSET_RULES));
    expect(e.code).toBe("UNSAFE_PATH");
    expect(e.file).toBe("b/job.json");
  });

  it.each(["../x", "a/b", "", ".", "..", "a\0b", "a\\b"])("readLocalJob › refuses the job id %j", async (id) => {
    const e = await rejection(readLocalJob(jobsDir(), id, DEFAULT_ASSET_RULES));
    expect(e.code).toBe("UNSAFE_PATH");
  });

  it("readLocalJob › refuses two assets with the same remote name", async () => {
    const job = new PipelineJob(jobsDir(), { name: "ivy" });
    await job.runToSuccess();
    await mkdir(path.join(job.dir, "outputs", "sub"));
    await writeFile(path.join(job.dir, "outputs", "sub", "ivy.png"), makePng(2, 2));
    const rules: AssetRule[] = [{ match: "outputs/**/*.png", role: "output_png", contentType: "image/png" }];
    const e = await rejection(readLocalJob(jobsDir(), job.id, rules));
    expect(e.code).toBe("UNSAFE_PATH");
    expect(e.message).toContain("same remote name `ivy.png`");
  });
});

describe("readLocalJob › bad or missing job.json", () => {
  it("readLocalJob › a job that does not exist has vanished", async () => {
    const e = await rejection(readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES));
    expect(e.code).toBe("JOB_VANISHED");
    expect(e.jobId).toBe(SAMPLE_ID);
  });

  it("readLocalJob › a folder without job.json has vanished (transient)", async () => {
    await mkdir(path.join(jobsDir(), SAMPLE_ID));
    const e = await rejection(readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES));
    expect(e.code).toBe("JOB_VANISHED");
    expect(e.file).toBe(`${SAMPLE_ID}/job.json`);
    expect(e.retryable).toBe(true);
  });

  it("readLocalJob › unparsable job.json carries the parser's exact reason", async () => {
    await writeRawJobJson('{"id": "x",');
    const e = await rejection(readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES));
    expect(e.code).toBe("JOB_JSON_UNPARSABLE");
    expect(e.message).toBe("Expecting property name enclosed in double quotes: line 1 column 12 (char 11)");
    expect(e.file).toBe(`${SAMPLE_ID}/job.json`);
    expect(e.describe()).toBe(
      `[JOB_JSON_UNPARSABLE] job ${SAMPLE_ID}, file ${SAMPLE_ID}/job.json: Expecting property name enclosed in double quotes: line 1 column 12 (char 11)`,
    );
  });

  it("readLocalJob › empty, BOM-prefixed and non-UTF-8 job.json are unparsable", async () => {
    for (const [bytes, why] of [
      [Buffer.alloc(0), "is empty"],
      [Buffer.from('\ufeff{"a": 1}'), "byte-order mark"],
      [Buffer.from([0x7b, 0xff, 0x7d]), "not valid UTF-8"],
    ] as const) {
      await writeRawJobJson(bytes);
      const e = await rejection(readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES));
      expect(e.code).toBe("JOB_JSON_UNPARSABLE");
      expect(e.message).toContain(why);
    }
  });

  it("readLocalJob › a record that breaks JobRecord.v1 names the field", async () => {
    await sampleJob("02-running", { status: "done" });
    const e = await rejection(readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES));
    expect(e.code).toBe("JOB_JSON_INVALID");
    expect(e.message).toBe('field `status`: expected one of queued|running|succeeded|failed, got "done"');
    expect(e.file).toBe(`${SAMPLE_ID}/job.json`);
  });

  it("readLocalJob › an id that differs from the folder name is a mismatch", async () => {
    await sampleJob("01-queued", { id: "11111111-2222-3333-4444-555555555555" });
    const e = await rejection(readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES));
    expect(e.code).toBe("JOB_ID_MISMATCH");
    expect(e.message).toContain('says id "11111111-2222-3333-4444-555555555555"');
  });

  it("readLocalJob › a record over Convex limits is VALUE_LIMIT naming the job.json field", async () => {
    await sampleJob("04-succeeded", { telemetry: { samples: new Array(9000).fill(1) } });
    let e = await rejection(readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES));
    expect(e.code).toBe("VALUE_LIMIT");
    expect(e.message).toContain("field `telemetry.samples` has 9000 elements");

    await sampleJob("04-succeeded", { layout_intent: "x".repeat(1100 * 1024) });
    e = await rejection(readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES));
    expect(e.code).toBe("VALUE_LIMIT");
    expect(e.message).toContain("largest field `layoutIntent`");
    expect(e.message).toContain("field `layout_intent`");
  });

  it("readLocalJob › a job.json that cannot be opened is FILE_UNREADABLE (EACCES)", async () => {
    const dir = await sampleJob("01-queued");
    denied.path = path.join(dir, "job.json");
    try {
      const e = await rejection(readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES));
      expect(e.code).toBe("FILE_UNREADABLE");
      // Permissions are the operator's to fix, not the job's data: retried, never marked.
      expect(e.kind).toBe("transient");
      expect(e.file).toBe(`${SAMPLE_ID}/job.json`);
      expect(e.message).toContain("permission denied");
    } finally {
      denied.path = "";
    }
  });

  it("readLocalJob › a sample record maps to the same hash as its Convex record", async () => {
    await sampleJob("04-succeeded");
    const local = await readLocalJob(jobsDir(), SAMPLE_ID, DEFAULT_ASSET_RULES);
    expect(local.record.jobId).toBe(SAMPLE_ID);
    expect(local.listed).toEqual(["ivy_sign_frame.png", "ivy_sign_frame_mask.png", "ivy_sign_frame_debug.png"]);
    expect(createHash("sha256").update(local.jobJson.text).digest("hex")).toBe(
      createHash("sha256")
        .update(readFileSync(path.join(SAMPLES, "04-succeeded.job.json")))
        .digest("hex"),
    );
  });
});
