/**
 * What the rescan relies on from the file system (WatchDaemon's `changedSince`), checked on the
 * machine the tests run on: the pipeline's writes change a ctime the rescan looks at, except a
 * file rewritten in place, which is why watched jobs are always queued; and ctime cannot be set
 * back the way mtime can.
 */
import { mkdir, open, rename, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { waitFor } from "../helpers/waitFor.js";
import { useTempJobsDir } from "./tempJobsDir.js";

const tempDir = useTempJobsDir();

/** Waits until the file system's clock has moved past every time of `paths`: the next write gets a later ctime. */
async function pastTimesOf(...paths: string[]): Promise<number> {
  const latest = Math.max(...(await Promise.all(paths.map(async (p) => (await stat(p)).ctimeMs))));
  const probe = path.join(path.dirname(paths[0]!), ".clock-probe");
  await waitFor(
    async () => {
      await writeFile(probe, "x");
      return (await stat(probe)).ctimeMs > latest;
    },
    { what: "the file system's clock to tick" },
  );
  return latest;
}

async function jobFolder(): Promise<{ dir: string; at: (...p: string[]) => string }> {
  const dir = path.join(tempDir(), "job");
  await mkdir(path.join(dir, "outputs"), { recursive: true });
  await mkdir(path.join(dir, "trace"));
  await writeFile(path.join(dir, "job.json"), "{}");
  await writeFile(path.join(dir, "outputs", "a.png"), "png");
  return { dir, at: (...p) => path.join(dir, ...p) };
}

describe("file times the rescan relies on", () => {
  it("fileTimes › replacing job.json by rename gives job.json a later ctime and changes the folder's", async () => {
    const { dir, at } = await jobFolder();
    const before = await pastTimesOf(at("job.json"), dir);
    await writeFile(at("job.json.tmp"), '{"status": "running"}');
    await rename(at("job.json.tmp"), at("job.json"));
    expect((await stat(at("job.json"))).ctimeMs).toBeGreaterThan(before);
    expect((await stat(dir)).ctimeMs).toBeGreaterThan(before);
  });

  it("fileTimes › a file created or removed in outputs/ or trace/ changes that folder's ctime", async () => {
    const { at } = await jobFolder();
    const before = await pastTimesOf(at("outputs"), at("trace"));
    await writeFile(at("outputs", "b.png"), "png");
    await writeFile(at("trace", "trace.json"), "[]");
    expect((await stat(at("outputs"))).ctimeMs).toBeGreaterThan(before);
    expect((await stat(at("trace"))).ctimeMs).toBeGreaterThan(before);
  });

  it("fileTimes › a PNG rewritten in place changes none of job.json, outputs/ or trace/ (so watched jobs are always queued)", async () => {
    const { at } = await jobFolder();
    const before = await pastTimesOf(at("job.json"), at("outputs"), at("trace"), at("outputs", "a.png"));
    const f = await open(at("outputs", "a.png"), "r+");
    try {
      await f.write("PNG!", 0);
    } finally {
      await f.close();
    }
    expect((await stat(at("outputs", "a.png"))).ctimeMs).toBeGreaterThan(before);
    for (const p of [at("job.json"), at("outputs"), at("trace")]) expect((await stat(p)).ctimeMs, p).toBeLessThanOrEqual(before);
  });

  it("fileTimes › setting mtime back (as cp -p or rsync -t do) leaves ctime at the change", async () => {
    const { at } = await jobFolder();
    const before = await pastTimesOf(at("job.json"));
    await utimes(at("job.json"), new Date(0), new Date(0));
    const st = await stat(at("job.json"));
    expect(st.mtimeMs).toBe(0);
    expect(st.ctimeMs).toBeGreaterThan(before);
  });
});
