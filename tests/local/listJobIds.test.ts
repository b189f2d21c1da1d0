import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SyncError } from "../../src/errors/SyncError.js";
import { listJobIds } from "../../src/local/listJobIds.js";
import { useTempJobsDir } from "./tempJobsDir.js";

const jobsDir = useTempJobsDir();

describe("listJobIds", () => {
  it("listJobIds › returns real sub-folders, sorted, and nothing else", async () => {
    for (const d of ["c", "a", "b-2", ".hidden", "tmpx1y2z3", "B"]) await mkdir(path.join(jobsDir(), d));
    await writeFile(path.join(jobsDir(), "file.json"), "{}");
    await symlink(path.join(jobsDir(), "a"), path.join(jobsDir(), "link"));
    expect(await listJobIds(jobsDir())).toEqual(["B", "a", "b-2", "c"]);
  });

  it("listJobIds › an empty jobs folder has no jobs", async () => {
    expect(await listJobIds(jobsDir())).toEqual([]);
  });

  it("listJobIds › lists 5,000 folders", async () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `job-${String(i).padStart(5, "0")}`);
    await Promise.all(ids.map((id) => mkdir(path.join(jobsDir(), id))));
    expect(await listJobIds(jobsDir())).toEqual(ids);
  });

  it("listJobIds › a missing jobs folder is JOBS_DIR_UNREADABLE (fatal)", async () => {
    const e = await listJobIds(path.join(jobsDir(), "nope")).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SyncError);
    expect((e as SyncError).code).toBe("JOBS_DIR_UNREADABLE");
    expect((e as SyncError).kind).toBe("fatal");
  });
});
