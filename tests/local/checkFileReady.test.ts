import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkFileReady, isSettled, pngLooksComplete, PNG_IEND } from "../../src/local/checkFileReady.js";
import { DEFAULT_ASSET_RULES } from "../../src/local/defaultAssetRules.js";
import { listJobFiles } from "../../src/local/listJobFiles.js";
import type { LocalFile } from "../../src/local/types.js";
import { makePng } from "../helpers/png.js";
import { useTempJobsDir } from "./tempJobsDir.js";

const jobsDir = useTempJobsDir();

async function listed(relPath: string, data: Buffer): Promise<{ dir: string; file: LocalFile }> {
  const dir = path.join(jobsDir(), "job-1");
  await mkdir(path.dirname(path.join(dir, relPath)), { recursive: true });
  await writeFile(path.join(dir, relPath), data);
  const file = (await listJobFiles(dir, "job-1", DEFAULT_ASSET_RULES)).find((f) => f.relPath === relPath);
  if (!file) throw new Error(`${relPath} not listed`);
  return { dir, file };
}

describe("isSettled", () => {
  it("isSettled › only once the mtime is settleMs old", () => {
    expect(isSettled({ mtimeMs: 1000 }, 1999, 1000)).toBe(false);
    expect(isSettled({ mtimeMs: 1000 }, 2000, 1000)).toBe(true);
    expect(isSettled({ mtimeMs: 5000 }, 2000, 0)).toBe(false);
  });
});

describe("pngLooksComplete", () => {
  const png = makePng(8, 8);

  it("pngLooksComplete › a whole PNG is complete", async () => {
    const { file } = await listed("outputs/a.png", png);
    expect(await pngLooksComplete(file.absPath, file.size)).toBe(true);
  });

  it("pngLooksComplete › a PNG cut anywhere before its end is not", async () => {
    const abs = path.join(jobsDir(), "cut.png");
    for (const n of [0, 1, 8, 11, 12, png.length - 12, png.length - 1]) {
      await writeFile(abs, png.subarray(0, n));
      expect(await pngLooksComplete(abs, n), `cut at ${n}`).toBe(false);
    }
  });

  it("pngLooksComplete › exactly the IEND chunk is the trailer checked", async () => {
    const abs = path.join(jobsDir(), "tail.png");
    await writeFile(abs, PNG_IEND);
    expect(await pngLooksComplete(abs, PNG_IEND.length)).toBe(true);
    const wrongCrc = Buffer.from(PNG_IEND);
    wrongCrc[11] = 0;
    await writeFile(abs, wrongCrc);
    expect(await pngLooksComplete(abs, PNG_IEND.length)).toBe(false);
  });
});

describe("checkFileReady", () => {
  it("checkFileReady › a fresh file is FILE_SETTLING", async () => {
    const { dir, file } = await listed("outputs/a.png", makePng(4, 4));
    const e = await checkFileReady(dir, file, { nowMs: file.mtimeMs + 10, settleMs: 500 });
    expect(e?.code).toBe("FILE_SETTLING");
    expect(e?.file).toBe("job-1/outputs/a.png");
  });

  it("checkFileReady › a settled, complete PNG is ready", async () => {
    const { dir, file } = await listed("outputs/a.png", makePng(4, 4));
    expect(await checkFileReady(dir, file, { nowMs: file.mtimeMs + 500, settleMs: 500 })).toBeNull();
  });

  it("checkFileReady › a settled but half-written PNG is FILE_SETTLING", async () => {
    const png = makePng(16, 16);
    const { dir, file } = await listed("outputs/a.png", png.subarray(0, png.length - 20));
    const e = await checkFileReady(dir, file, { nowMs: file.mtimeMs + 500, settleMs: 500 });
    expect(e?.code).toBe("FILE_SETTLING");
    expect(e?.message).toContain("IEND");
  });

  it("checkFileReady › a 0-byte PNG is never ready", async () => {
    const { dir, file } = await listed("outputs/a.png", Buffer.alloc(0));
    expect((await checkFileReady(dir, file, { nowMs: file.mtimeMs + 1e6, settleMs: 0 }))?.code).toBe("FILE_SETTLING");
  });

  it("checkFileReady › JSON needs only to have settled", async () => {
    const { dir, file } = await listed("trace/trace.json", Buffer.from("{}"));
    expect(await checkFileReady(dir, file, { nowMs: file.mtimeMs + 500, settleMs: 500 })).toBeNull();
  });

  it("checkFileReady › a PNG rewritten since it was listed is FILE_CHANGED", async () => {
    const { dir, file } = await listed("outputs/a.png", makePng(4, 4));
    await writeFile(file.absPath, makePng(5, 5));
    await expect(checkFileReady(dir, file, { nowMs: file.mtimeMs + 500, settleMs: 500 })).rejects.toMatchObject({
      code: "FILE_CHANGED",
    });
  });
});
