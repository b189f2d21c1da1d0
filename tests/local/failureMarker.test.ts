import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { mkdir, readdir, readFile, rename, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_ASSET_RULES } from "../../src/local/defaultAssetRules.js";
import { clearFailureMarker, pythonUtcTimestamp, writeFailureMarker } from "../../src/local/failureMarker.js";
import { parsePythonJson, stringifyPythonJson } from "../../src/local/pythonJson.js";
import { readLocalJob } from "../../src/local/readJob.js";
import { waitFor } from "../helpers/waitFor.js";

/** job.json as a test reads it back: the pipeline's fields and the marker, loosely typed. */
type MarkedRecord = Record<string, unknown> & {
  sync_failure: { previous: Record<string, unknown> & { progress_stage: unknown }; [key: string]: unknown };
};
import { useTempJobsDir } from "./tempJobsDir.js";

const jobsDir = useTempJobsDir();
const SAMPLES = path.resolve(import.meta.dirname, "../fixtures/samples");
const ID = "3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42";
const NOW = new Date("2027-01-02T03:04:05.678Z");
const input = { reason: "[VALUE_LIMIT] field `telemetry` too big", attempts: 3, retryable: false, now: NOW };

const dir = () => path.join(jobsDir(), ID);
const jobJson = () => path.join(dir(), "job.json");

async function jobFrom(text: string): Promise<void> {
  await mkdir(dir(), { recursive: true });
  // The pipeline's way: temp file, then rename.
  const tmp = path.join(dir(), `tmp${randomBytes(4).toString("hex")}`);
  await writeFile(tmp, text);
  await rename(tmp, jobJson());
}

const sample = (name: string) => readFileSync(path.join(SAMPLES, `${name}.job.json`), "utf8");

async function snapshot() {
  const st = await stat(jobJson());
  return { bytes: await readFile(jobJson()), ino: st.ino, mtimeMs: st.mtimeMs };
}

async function leftovers(): Promise<string[]> {
  return (await readdir(dir())).filter((n) => n !== "job.json");
}

describe("writeFailureMarker", () => {
  it("writeFailureMarker › writes exactly the documented shape, other keys untouched", async () => {
    const original = sample("02-running");
    await jobFrom(original);
    expect(await writeFailureMarker(dir(), ID, input)).toBe("written");
    const at = "2027-01-02T03:04:05.678000+00:00";
    const expected = original
      .replace('"status": "running"', '"status": "failed"')
      .replace(/"updated_at": "[^"]+"/, `"updated_at": "${at}"`)
      .replace(/"progress_stage": "[^"]+"/, '"progress_stage": "error"')
      .replace(
        '"error": null\n}',
        `"error": "[TraceID: ${ID}] Convex sync failed: [VALUE_LIMIT] field \`telemetry\` too big",
  "sync_failure": {
    "at": "${at}",
    "attempts": 3,
    "reason": "[VALUE_LIMIT] field \`telemetry\` too big",
    "retryable": false,
    "previous": {
      "status": "running",
      "progress_stage": "generating_passes",
      "error": null,
      "component": null
    }
  }
}`,
      );
    expect(await readFile(jobJson(), "utf8")).toBe(expected);
    // Exactly what Python's json.dump(indent=2) would write for the same object.
    expect(stringifyPythonJson(parsePythonJson(expected))).toBe(expected);
    expect(await leftovers()).toEqual([]);
  });

  it("writeFailureMarker › the marked job reads back as failed with its marker", async () => {
    await jobFrom(sample("02-running"));
    await writeFailureMarker(dir(), ID, input);
    const local = await readLocalJob(jobsDir(), ID, DEFAULT_ASSET_RULES);
    expect(local.record.status).toBe("failed");
    expect(local.record.error).toBe(`[TraceID: ${ID}] Convex sync failed: ${input.reason}`);
    expect(local.marker).toEqual({
      at: "2027-01-02T03:04:05.678000+00:00",
      attempts: 3,
      reason: input.reason,
      retryable: false,
      previous: { status: "running", progress_stage: "generating_passes", error: null, component: null },
    });
  });

  it("writeFailureMarker › the same reason a second time changes nothing", async () => {
    await jobFrom(sample("04-succeeded"));
    expect(await writeFailureMarker(dir(), ID, input)).toBe("written");
    const before = await snapshot();
    expect(await writeFailureMarker(dir(), ID, { ...input, attempts: 9, now: new Date() })).toBe("unchanged");
    expect(await snapshot()).toEqual(before);
  });

  it("writeFailureMarker › a new reason keeps the ORIGINAL previous state", async () => {
    await jobFrom(sample("04-succeeded"));
    await writeFailureMarker(dir(), ID, input);
    expect(await writeFailureMarker(dir(), ID, { reason: "other", attempts: 5, retryable: true, now: NOW })).toBe("written");
    const raw = parsePythonJson(await readFile(jobJson(), "utf8")) as MarkedRecord;
    expect(raw.error).toBe(`[TraceID: ${ID}] Convex sync failed: other`);
    expect(raw.sync_failure).toMatchObject({
      attempts: 5,
      reason: "other",
      retryable: true,
      previous: { status: "succeeded", progress_stage: "completed", error: null },
    });
  });

  it("writeFailureMarker › a marker the pipeline carried into a newer state is replaced, with that state as previous", async () => {
    await jobFrom(sample("02-running"));
    await writeFailureMarker(dir(), ID, input);
    // The pipeline loaded the marked record as a dict, moved on and saved it again.
    const carried = parsePythonJson(await readFile(jobJson(), "utf8")) as Record<string, unknown>;
    await jobFrom(stringifyPythonJson({ ...carried, status: "succeeded", progress_stage: "completed", error: null }));
    expect(await writeFailureMarker(dir(), ID, input)).toBe("written");
    const raw = parsePythonJson(await readFile(jobJson(), "utf8")) as MarkedRecord;
    expect(raw.sync_failure.previous).toEqual({ status: "succeeded", progress_stage: "completed", error: null, component: null });
  });

  it("writeFailureMarker › keeps a pipeline error as previous and never nests markers", async () => {
    await jobFrom(sample("05-failed-rate-limit"));
    await writeFailureMarker(dir(), ID, input);
    await writeFailureMarker(dir(), ID, { ...input, reason: "second" });
    const raw = parsePythonJson(await readFile(jobJson(), "utf8")) as MarkedRecord;
    expect(raw.sync_failure.previous).toEqual({
      status: "failed",
      progress_stage: "error",
      error: `[TraceID: ${ID}] Rate Limit Exceeded. Please try again later.`,
      component: null,
      retry_after: 60,
    });
    expect(JSON.stringify(raw.sync_failure.previous)).not.toContain("sync_failure");
    // The marked record reads like the pipeline's own failure: no retry_after, no component.
    expect(raw.retry_after).toBeUndefined();
    expect(raw.component).toBeNull();
  });

  it("writeFailureMarker › untouched values keep their exact text (1.0 stays 1.0, non-ASCII stays as written)", async () => {
    const text = sample("01-queued").replace(
      '"error": null\n}',
      '"error": null,\n  "telemetry": {\n    "score": 1.0,\n    "big": 1e+16,\n    "tiny": 1e-05\n  },\n  "note": "caf\u00e9 \\u00e9"\n}',
    );
    await jobFrom(text);
    await writeFailureMarker(dir(), ID, input);
    const out = await readFile(jobJson(), "utf8");
    expect(out).toContain('"telemetry": {\n    "score": 1.0,\n    "big": 1e+16,\n    "tiny": 1e-05\n  },\n  "note": "caf\u00e9 \\u00e9",');
  });

  it("writeFailureMarker › updated_at moves past a stored updated_at that is ahead of the clock", async () => {
    await jobFrom(sample("02-running").replace(/"updated_at": "[^"]+"/, '"updated_at": "2030-05-06T07:08:09.999999+00:00"'));
    await writeFailureMarker(dir(), ID, input);
    const raw = parsePythonJson(await readFile(jobJson(), "utf8")) as MarkedRecord;
    expect(raw.updated_at).toBe("2030-05-06T07:08:10.000000+00:00");
    expect(raw.sync_failure.at).toBe(raw.updated_at);
  });

  it("writeFailureMarker › keeps the file's mode", async () => {
    await jobFrom(sample("02-running"));
    const { chmod } = await import("node:fs/promises");
    await chmod(jobJson(), 0o640);
    await writeFailureMarker(dir(), ID, input);
    expect((await stat(jobJson())).mode & 0o777).toBe(0o640);
  });

  it.each([
    ["truncated", () => sample("04-succeeded").slice(0, 200)],
    ["empty", () => ""],
    ["BOM-prefixed", () => `\ufeff${sample("01-queued")}`],
    ["an array", () => "[1, 2]"],
  ])("writeFailureMarker › never rewrites a %s job.json", async (_kind, make) => {
    await jobFrom(make());
    const before = await snapshot();
    expect(await writeFailureMarker(dir(), ID, input)).toBe("skipped-unparsable");
    expect(await snapshot()).toEqual(before);
    expect(await leftovers()).toEqual([]);
  });

  it("writeFailureMarker › never rewrites job.json that is not UTF-8", async () => {
    await mkdir(dir(), { recursive: true });
    await writeFile(jobJson(), Buffer.from([0x7b, 0xff, 0x7d]));
    const before = await snapshot();
    expect(await writeFailureMarker(dir(), ID, input)).toBe("skipped-unparsable");
    expect(await snapshot()).toEqual(before);
  });

  it("writeFailureMarker › a missing job.json is JOB_VANISHED", async () => {
    await mkdir(dir(), { recursive: true });
    await expect(writeFailureMarker(dir(), ID, input)).rejects.toMatchObject({ code: "JOB_VANISHED", file: `${ID}/job.json` });
  });
});

describe("writeFailureMarker › compare-and-swap", () => {
  /** The pipeline's next stage, written its own way, with a visible sequence field. */
  function pipelineUpdate(seq: number): void {
    const raw = parsePythonJson(readFileSync(jobJson(), "utf8")) as Record<string, unknown>;
    delete raw.sync_failure;
    const next = { ...raw, status: "running", progress_stage: `stage_${seq}`, error: null, seq };
    const tmp = path.join(dir(), `tmp${randomBytes(4).toString("hex")}`);
    writeFileSync(tmp, stringifyPythonJson(next));
    renameSync(tmp, jobJson());
  }

  it("writeFailureMarker › a pipeline write between read and re-check is kept; the marker lands on top of it", async () => {
    await jobFrom(sample("02-running"));
    const attempts: number[] = [];
    const outcome = await writeFailureMarker(dir(), ID, {
      ...input,
      hooks: {
        beforeRecheck: (attempt) => {
          attempts.push(attempt);
          if (attempt === 1) pipelineUpdate(1);
        },
      },
    });
    expect(outcome).toBe("written");
    expect(attempts).toEqual([1, 2]);
    const raw = parsePythonJson(await readFile(jobJson(), "utf8")) as MarkedRecord;
    expect(raw.seq).toBe(1);
    expect(raw.sync_failure.previous).toEqual({ status: "running", progress_stage: "stage_1", error: null, component: null });
    expect(await leftovers()).toEqual([]);
  });

  it("writeFailureMarker › a pipeline write just before the rename is caught by the last check", async () => {
    await jobFrom(sample("02-running"));
    const outcome = await writeFailureMarker(dir(), ID, {
      ...input,
      hooks: { beforeRename: (attempt) => (attempt === 1 ? pipelineUpdate(7) : undefined) },
    });
    expect(outcome).toBe("written");
    const raw = parsePythonJson(await readFile(jobJson(), "utf8")) as MarkedRecord;
    expect(raw.seq).toBe(7);
    expect(raw.sync_failure.previous.progress_stage).toBe("stage_7");
  });

  it("writeFailureMarker › an in-place rewrite with the same inode is caught by the byte comparison", async () => {
    await jobFrom(sample("02-running"));
    const outcome = await writeFailureMarker(dir(), ID, {
      ...input,
      hooks: {
        beforeRecheck: (attempt) => {
          if (attempt !== 1) return;
          const text = readFileSync(jobJson(), "utf8").replace("generating_passes", "generating_paxxes");
          writeFileSync(jobJson(), text);
        },
      },
    });
    expect(outcome).toBe("written");
    const raw = parsePythonJson(await readFile(jobJson(), "utf8")) as MarkedRecord;
    expect(raw.sync_failure.previous.progress_stage).toBe("generating_paxxes");
  });

  it("writeFailureMarker › waits while a fresh pipeline temp file says a write is in flight", async () => {
    await jobFrom(sample("02-running"));
    await writeFile(path.join(dir(), "tmpk2j4h6g8"), "{");
    const before = await snapshot();
    expect(await writeFailureMarker(dir(), ID, { ...input, maxAttempts: 2 })).toBe("raced-gave-up");
    expect(await snapshot()).toEqual(before);
    expect(await leftovers()).toEqual(["tmpk2j4h6g8"]);
  });

  it("writeFailureMarker › a stale pipeline temp file (crash leftover) does not block", async () => {
    await jobFrom(sample("02-running"));
    const stale = path.join(dir(), "tmpk2j4h6g8");
    await writeFile(stale, "{");
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(stale, old, old);
    expect(await writeFailureMarker(dir(), ID, input)).toBe("written");
  });

  it("writeFailureMarker › gives up after the attempt limit, leaving the pipeline's last write and no temp file", async () => {
    await jobFrom(sample("02-running"));
    let seq = 0;
    const outcome = await writeFailureMarker(dir(), ID, {
      ...input,
      maxAttempts: 3,
      hooks: { beforeRecheck: () => pipelineUpdate(++seq) },
    });
    expect(outcome).toBe("raced-gave-up");
    const raw = parsePythonJson(await readFile(jobJson(), "utf8")) as MarkedRecord;
    expect(raw.seq).toBe(3);
    expect(raw.sync_failure).toBeUndefined();
    expect(await leftovers()).toEqual([]);
  });

  it("writeFailureMarker › a concurrent temp+rename writer never loses a write (stress, ~1 s)", async () => {
    await jobFrom(stringifyPythonJson({ ...(parsePythonJson(sample("02-running")) as object), seq: 0 }));
    // The writer does real temp+rename writes, each landing at once like another process's
    // os.replace, in every gap between the CAS's awaits (read, temp write, fsync, re-read). It
    // runs on this thread so that it cannot land inside the synchronous last check + rename:
    // that residual window is documented in casRewriteJobJson and measured, not asserted, as a
    // test of it could only be flaky. Before every write the writer checks that the file still
    // holds its own last write or a marker built on it; a marker over an older seq is a lost
    // update.
    let lastSeq = 0;
    const violations: string[] = [];
    let writerDone = false;
    // Irregular pace: bursts of back-to-back writes and short pauses (marker writes collide and
    // retry), now and then a longer pause like the pipeline's between stages (they get through).
    let rnd = 12345;
    const pause = () => {
      rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
      const r = rnd % 10;
      return r < 5 ? r : 40;
    };
    const stopAt = Date.now() + 1000;
    const checkFile = () => {
      const raw = parsePythonJson(readFileSync(jobJson(), "utf8")) as Record<string, unknown>;
      if (raw.seq !== lastSeq) violations.push(`file has seq ${String(raw.seq)}, writer's last is ${lastSeq}`);
      return raw;
    };
    let stopWriter = false;
    const tick = () => {
      if (stopWriter || Date.now() > stopAt) {
        writerDone = true;
        return;
      }
      checkFile();
      pipelineUpdate(++lastSeq);
      const ms = pause();
      if (ms === 0) setImmediate(tick);
      else setTimeout(tick, ms);
    };
    setImmediate(tick);

    const outcomes: Record<string, number> = {};
    let retried = 0;
    try {
      let i = 0;
      while (!writerDone) {
        const o = await writeFailureMarker(dir(), ID, {
          reason: `reason ${i++ % 2}`,
          attempts: i,
          retryable: true,
          hooks: {
            beforeRecheck: (attempt) => {
              if (attempt > 1) retried++;
            },
          },
        });
        outcomes[o] = (outcomes[o] ?? 0) + 1;
      }
    } finally {
      // The writer runs on its own timers: stopped here whatever happened above.
      stopWriter = true;
      await waitFor(() => writerDone, { intervalMs: 5, what: "the writer to finish" });
    }

    const final = checkFile();
    expect(violations).toEqual([]);
    // Either the writer's last write, or a marker built on exactly that write.
    if (final.sync_failure !== undefined) {
      expect((final.sync_failure as MarkedRecord["sync_failure"]).previous.progress_stage).toBe(`stage_${lastSeq}`);
    } else {
      expect(final.progress_stage).toBe(`stage_${lastSeq}`);
    }
    expect(lastSeq).toBeGreaterThan(10);
    // Not vacuous: markers got written, and some only after colliding with the writer.
    expect(outcomes.written ?? 0).toBeGreaterThan(0);
    expect(retried).toBeGreaterThan(0);
    expect(await leftovers()).toEqual([]);
  });
});

describe("clearFailureMarker", () => {
  it("clearFailureMarker › restores the previous state exactly; only updated_at differs", async () => {
    for (const name of ["01-queued", "02-running", "03-processing", "04-succeeded", "05-failed-rate-limit"]) {
      await jobFrom(sample(name));
      await writeFailureMarker(dir(), ID, input);
      await writeFailureMarker(dir(), ID, { ...input, reason: "second" });
      const later = new Date("2028-01-01T00:00:00.001Z");
      expect(await clearFailureMarker(dir(), ID, later)).toBe("cleared");
      expect(await readFile(jobJson(), "utf8"), name).toBe(
        sample(name).replace(/"updated_at": "[^"]+"/, '"updated_at": "2028-01-01T00:00:00.001000+00:00"'),
      );
    }
  });

  it("clearFailureMarker › a field the record did not have is removed again", async () => {
    const text = sample("01-queued").replace('  "progress_stage": "initialized",\n', "");
    expect(text).not.toContain("progress_stage");
    await jobFrom(text);
    await writeFailureMarker(dir(), ID, input);
    expect(await readFile(jobJson(), "utf8")).toContain('"progress_stage": "error"');
    const marker = (parsePythonJson(await readFile(jobJson(), "utf8")) as MarkedRecord).sync_failure;
    expect(Object.keys(marker.previous)).toEqual(["status", "error", "component"]);
    await clearFailureMarker(dir(), ID, new Date("2028-01-01T00:00:00Z"));
    expect(await readFile(jobJson(), "utf8")).toBe(
      text.replace(/"updated_at": "[^"]+"/, '"updated_at": "2028-01-01T00:00:00.000000+00:00"'),
    );
  });

  it("clearFailureMarker › a marked component and retry_after come back with their exact text (1.0 stays 1.0)", async () => {
    const text = sample("05-failed-rate-limit").replace(
      '"component": null,',
      '"component": {\n    "manifest": {\n      "scale": 1.0,\n      "name": "caf\\u00e9"\n    },\n    "assets": {\n      "a.png": null\n    }\n  },',
    );
    await jobFrom(text);
    await writeFailureMarker(dir(), ID, input);
    const marked = await readFile(jobJson(), "utf8");
    const top = parsePythonJson(marked) as Record<string, unknown>;
    expect(top.component).toBeNull();
    expect(top.retry_after).toBeUndefined();
    expect(marked).toContain('"scale": 1.0');
    await clearFailureMarker(dir(), ID, new Date("2028-01-01T00:00:00Z"));
    expect(await readFile(jobJson(), "utf8")).toBe(
      text.replace(/"updated_at": "[^"]+"/, '"updated_at": "2028-01-01T00:00:00.000000+00:00"'),
    );
  });

  it("clearFailureMarker › no marker, nothing written", async () => {
    await jobFrom(sample("04-succeeded"));
    const before = await snapshot();
    expect(await clearFailureMarker(dir(), ID)).toBe("no-marker");
    expect(await snapshot()).toEqual(before);
  });

  it("clearFailureMarker › an unparsable job.json is never rewritten", async () => {
    await jobFrom("{");
    const before = await snapshot();
    expect(await clearFailureMarker(dir(), ID)).toBe("skipped-unparsable");
    expect(await snapshot()).toEqual(before);
  });

  it("clearFailureMarker › a marker carried into a newer pipeline state is dropped without touching that state", async () => {
    await jobFrom(sample("02-running"));
    await writeFailureMarker(dir(), ID, input);
    const carried = parsePythonJson(await readFile(jobJson(), "utf8")) as Record<string, unknown>;
    await jobFrom(stringifyPythonJson({ ...carried, status: "succeeded", progress_stage: "completed", error: null }));
    expect(await clearFailureMarker(dir(), ID)).toBe("cleared");
    const raw = parsePythonJson(await readFile(jobJson(), "utf8")) as Record<string, unknown>;
    expect([raw.status, raw.progress_stage, raw.error, raw.sync_failure]).toEqual(["succeeded", "completed", null, undefined]);
  });
});

describe("pythonUtcTimestamp", () => {
  it("pythonUtcTimestamp › writes microseconds and +00:00 like Python's isoformat()", () => {
    expect(pythonUtcTimestamp(Date.UTC(2026, 10, 20, 14, 3, 11, 482) * 1000 + 913)).toBe("2026-11-20T14:03:11.482913+00:00");
    expect(pythonUtcTimestamp(Date.UTC(2026, 0, 1) * 1000)).toBe("2026-01-01T00:00:00.000000+00:00");
  });
});
