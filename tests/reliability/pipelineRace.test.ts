/**
 * Race with the pipeline: the pipeline rewrites job.json 100 times a second (temp file and
 * rename, as Python's `os.replace` does; each write carries a sequence number) while the
 * daemon, in its own process, keeps writing failure markers into the same file, because every
 * version of the job fails permanently. No pipeline write may be lost, and no marker may land
 * on a newer record than the one it was built from.
 *
 * The check is continuous: before each write the pipeline reads job.json back, and it must
 * still carry the sequence number the pipeline wrote last (with or without a marker on it).
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parsePythonJson, stringifyPythonJson } from "../../src/local/pythonJson.js";
import { nextIso, PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";
import { logLines, sleep, startDaemon, writeDaemonConfig } from "./reliabilityKit.js";

const WRITES_PER_SECOND = 100;
const RACE_SECONDS = 5;

let h: Harness;
let cwd: string;
beforeEach(async () => {
  h = await createHarness();
  cwd = await mkdtemp(path.join(tmpdir(), "celstate-race-cwd-"));
});
afterEach(async () => {
  await h.cleanup();
  await rm(cwd, { recursive: true, force: true });
});

/** A value nested deeper than Convex's 16 levels: every record carrying it fails VALUE_LIMIT. */
function tooDeep(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < levels; i++) v = { next: v };
  return v;
}

type Variant = { label: string; code: string; record: (job: PipelineJob, seq: number) => Record<string, unknown> };

const VARIANTS: Variant[] = [
  {
    label: "a record over Convex's nesting limit",
    code: "VALUE_LIMIT",
    record: (job, seq) => ({ ...job.record, status: "running", progress_stage: `stage-${seq}`, telemetry: tooDeep(20), seq }),
  },
  {
    label: "a succeeded job whose listed asset does not exist",
    code: "ASSET_MISSING",
    record: (job, seq) => ({
      ...job.record,
      status: "succeeded",
      progress_stage: `stage-${seq}`,
      component: { manifest: { id: job.name }, assets: { [`${job.name}_never.png`]: null } },
      seq,
    }),
  },
];

type Racer = { job: PipelineJob; variant: Variant; lastSeq: number; problems: string[]; markersSeen: number };

/**
 * Reads job.json the way a careful reader must: while a marker is swapped in, job.json is absent
 * for a few microseconds (it is set aside, then the new file is linked in), so ENOENT means
 * "look again", never "gone".
 */
async function readJobJson(file: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await readFile(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" || i >= 100) throw e;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/** What job.json must show before write `seq`: the previous write, marked or not, intact. */
function checkBeforeWrite(r: Racer, text: string): void {
  let rec: Record<string, unknown>;
  try {
    rec = parsePythonJson(text) as Record<string, unknown>;
  } catch (e) {
    r.problems.push(`seq ${r.lastSeq}: job.json unparsable: ${(e as Error).message}`);
    return;
  }
  if (rec.seq !== r.lastSeq) {
    r.problems.push(
      `lost write: the pipeline wrote seq ${r.lastSeq}, job.json shows seq ${String(rec.seq)}${rec.sync_failure ? " under a marker" : ""}`,
    );
    return;
  }
  if (rec.sync_failure !== undefined) {
    r.markersSeen++;
    const prev = (rec.sync_failure as { previous?: Record<string, unknown> }).previous;
    // A marker built from record N carries N's state as `previous`, and N's seq beside it.
    if (prev?.progress_stage !== `stage-${r.lastSeq}`) {
      r.problems.push(`marker on seq ${r.lastSeq} remembers ${JSON.stringify(prev)}: it was built from another record`);
    }
  }
}

async function pipelineWrite(r: Racer, seq: number): Promise<void> {
  // Python's json.dump to a `tmp<random>` file in the job folder, then os.replace.
  const tmp = path.join(r.job.dir, `tmp${randomBytes(4).toString("hex")}`);
  r.job.record = { ...r.job.record, updated_at: nextIso() };
  await writeFile(tmp, stringifyPythonJson(r.variant.record(r.job, seq)));
  await rename(tmp, path.join(r.job.dir, "job.json"));
  r.lastSeq = seq;
}

describe("race with the pipeline", () => {
  it(`failure marker › ${WRITES_PER_SECOND} pipeline writes per second for ${RACE_SECONDS} s against the daemon's markers: no write lost, no marker on a record it did not see`, async () => {
    await writeDaemonConfig(cwd, { settleMs: 0, logLevel: "info", watch: { debounceMs: 5 } });
    const racers: Racer[] = [];
    for (const variant of VARIANTS) {
      const job = new PipelineJob(h.jobsDir);
      await mkdir(job.dir, { recursive: true });
      const r: Racer = { job, variant, lastSeq: 0, problems: [], markersSeen: 0 };
      await pipelineWrite(r, 1);
      racers.push(r);
    }
    const total = WRITES_PER_SECOND * RACE_SECONDS;
    const daemon = startDaemon(h, cwd);
    let exit: Awaited<ReturnType<typeof daemon.stop>>;
    try {
      await daemon.waitForLog('"msg":"start-up reconcile done; watching"', 60_000);
      await Promise.all(
        racers.map(async (r) => {
          const t0 = Date.now();
          for (let seq = 2; seq <= total; seq++) {
            checkBeforeWrite(r, await readJobJson(path.join(r.job.dir, "job.json")));
            await pipelineWrite(r, seq);
            // The pipeline's pace: this write's slot in WRITES_PER_SECOND.
            const due = t0 + (seq - 1) * (1000 / WRITES_PER_SECOND);
            await sleep(Math.max(0, due - Date.now()));
          }
        }),
      );
      // The pipeline has stopped: the daemon gets to mark the last version.
      for (const r of racers) {
        const file = path.join(r.job.dir, "job.json");
        await waitFor(async () => (parsePythonJson(await readJobJson(file)) as Record<string, unknown>).sync_failure !== undefined, {
          timeoutMs: 10_000,
          intervalMs: 50,
          what: `${r.variant.label}: the last version marked`,
        });
        checkBeforeWrite(r, await readJobJson(file));
        const final = parsePythonJson(await readJobJson(file)) as Record<string, unknown>;
        expect(final.seq, r.variant.label).toBe(total);
        expect(final.sync_failure, `${r.variant.label}: the last version is marked`).toBeDefined();
        expect(String((final.sync_failure as Record<string, unknown>).reason)).toContain(r.variant.code);
      }
    } finally {
      exit = await daemon.stop("SIGTERM");
    }
    expect(exit.code).toBe(0);

    const lines = logLines(daemon.stderr);
    const markerOutcomes = new Map<string, number>();
    for (const l of lines) {
      if (typeof l.marker === "string") markerOutcomes.set(l.marker, (markerOutcomes.get(l.marker) ?? 0) + 1);
    }
    for (const r of racers) {
      expect(r.problems, r.variant.label).toEqual([]);
      // The race really happened: the pipeline found its own write under a marker.
      expect(r.markersSeen, r.variant.label).toBeGreaterThan(0);
    }
    // …and the daemon renamed many markers over job.json while the pipeline was writing.
    expect(markerOutcomes.get("written") ?? 0).toBeGreaterThanOrEqual(10);
    console.info(
      `pipeline race: ${racers.length} jobs × ${total} writes; markers seen by the pipeline: ${racers.map((r) => r.markersSeen).join(", ")}; ` +
        `daemon marker outcomes: ${JSON.stringify(Object.fromEntries(markerOutcomes))}`,
    );
  }, 120_000);
});
