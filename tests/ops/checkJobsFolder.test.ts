import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkJobsFolder } from "../../src/ops/checkJobsFolder.js";
import { useTempJobsDir } from "../local/tempJobsDir.js";

const tmp = useTempJobsDir();

describe("checkJobsFolder", () => {
  it("checkJobsFolder › is ok for a writable folder, counts job folders and leaves no probe behind", async () => {
    await mkdir(path.join(tmp(), "3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42"));
    await mkdir(path.join(tmp(), "9d1e0f42-8d4b-4e1f-9a37-5b2c7d1e0f42"));
    const { check, jobFolders } = await checkJobsFolder(tmp());
    expect(check.status).toBe("ok");
    expect(jobFolders).toBe(2);
    expect(check.detail).toContain("2 job folders");
    expect((await readdir(tmp())).filter((n) => n.startsWith("."))).toEqual([]);
  });

  it("checkJobsFolder › fails for a folder that does not exist, saying how to point at the right one", async () => {
    const { check, jobFolders } = await checkJobsFolder(path.join(tmp(), "nope"));
    expect(check.status).toBe("fail");
    expect(check.detail).toContain("does not exist");
    expect(check.fix).toContain("--jobs-dir");
    expect(jobFolders).toBeNull();
  });

  it("checkJobsFolder › fails for a file where a folder should be", async () => {
    const f = path.join(tmp(), "file");
    await writeFile(f, "x");
    const { check } = await checkJobsFolder(f);
    expect(check.status).toBe("fail");
    expect(check.detail).toContain("is not a folder");
  });
});
