import { appendFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isCompletePngAsListed, isSettled, PNG_IEND, settleProblem, trailerProblem } from "../../src/local/checkFileReady.js";
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
  const file = listJobFiles(dir, "job-1", DEFAULT_ASSET_RULES).find((f) => f.relPath === relPath);
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

describe("trailerProblem", () => {
  const png = makePng(8, 8);
  const pngFile = { relPath: "outputs/a.png", contentType: "image/png" } as LocalFile;

  it("trailerProblem › a whole PNG is complete, a PNG cut anywhere before its end is not", () => {
    expect(trailerProblem("/jobs/job-1", pngFile, png.subarray(-12))).toBeNull();
    for (const n of [0, 1, 8, 11, 12, png.length - 12, png.length - 1]) {
      const e = trailerProblem("/jobs/job-1", pngFile, png.subarray(0, n).subarray(-12));
      expect(e?.code, `cut at ${n}`).toBe("FILE_SETTLING");
      expect(e?.message).toContain("IEND");
      expect(e?.file).toBe("job-1/outputs/a.png");
    }
  });

  it("trailerProblem › exactly the IEND chunk, CRC included, is the trailer checked", () => {
    expect(trailerProblem("/jobs/job-1", pngFile, PNG_IEND)).toBeNull();
    const wrongCrc = Buffer.from(PNG_IEND);
    wrongCrc[11] = 0;
    expect(trailerProblem("/jobs/job-1", pngFile, wrongCrc)?.code).toBe("FILE_SETTLING");
  });

  it("trailerProblem › a file that is not a PNG has no trailer to check", () => {
    expect(
      trailerProblem("/jobs/job-1", { relPath: "trace/trace.json", contentType: "application/json" } as LocalFile, Buffer.from("{}")),
    ).toBeNull();
  });
});

describe("settleProblem", () => {
  it("settleProblem › a fresh file is FILE_SETTLING, naming the job and file; an old one is not", async () => {
    const { dir, file } = await listed("outputs/a.png", makePng(4, 4));
    const e = settleProblem(dir, file, { nowMs: file.mtimeMs + 10, settleMs: 500 });
    expect(e?.code).toBe("FILE_SETTLING");
    expect(e?.file).toBe("job-1/outputs/a.png");
    expect(e?.message).toContain("waiting until it is 500 ms old");
    expect(settleProblem(dir, file, { nowMs: file.mtimeMs + 500, settleMs: 500 })).toBeNull();
  });
});

describe("isCompletePngAsListed", () => {
  it("isCompletePngAsListed › a whole PNG is; one cut before its end, or not a PNG, is not", async () => {
    const png = makePng(8, 8);
    const whole = await listed("outputs/whole.png", png);
    expect(isCompletePngAsListed(whole.dir, whole.file)).toBe(true);
    for (const n of [0, 11, png.length - 12, png.length - 1]) {
      const cut = await listed(`outputs/cut-${n}.png`, png.subarray(0, n));
      expect(isCompletePngAsListed(cut.dir, cut.file), `cut at ${n}`).toBe(false);
    }
    const trace = await listed("trace/trace.json", Buffer.from("{}"));
    expect(isCompletePngAsListed(trace.dir, trace.file)).toBe(false);
  });

  it("isCompletePngAsListed › a PNG that moved on since it was listed is not known complete", async () => {
    const png = makePng(8, 8);
    const cut = await listed("outputs/growing.png", png.subarray(0, 40));
    // The writer finishes after the listing: the listed 40 bytes are not the whole file.
    await appendFile(path.join(cut.dir, "outputs/growing.png"), png.subarray(40));
    expect(isCompletePngAsListed(cut.dir, cut.file)).toBe(false);
  });
});
