import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkInotifyLimits, WATCHES_PER_ACTIVE_JOB } from "../../src/ops/checkInotifyLimits.js";
import { useTempJobsDir } from "../local/tempJobsDir.js";

const tmp = useTempJobsDir();

async function proc(watches: string | null, instances: string | null): Promise<string> {
  const dir = path.join(tmp(), "inotify");
  await mkdir(dir, { recursive: true });
  if (watches !== null) await writeFile(path.join(dir, "max_user_watches"), `${watches}\n`);
  if (instances !== null) await writeFile(path.join(dir, "max_user_instances"), `${instances}\n`);
  return dir;
}

describe("checkInotifyLimits", () => {
  it("checkInotifyLimits › is ok with room for the active jobs", async () => {
    const c = await checkInotifyLimits({ jobFolders: 1000, maxWatchedJobs: 500, platform: "linux", procDir: await proc("524288", "128") });
    expect(c.status).toBe("ok");
    expect(c.detail).toContain(`need about ${500 * WATCHES_PER_ACTIVE_JOB + 1} watches`);
  });

  it("checkInotifyLimits › warns with the sysctl command when watches are low", async () => {
    const c = await checkInotifyLimits({ jobFolders: 10_000, maxWatchedJobs: 5000, platform: "linux", procDir: await proc("8192", "128") });
    expect(c.status).toBe("warn");
    expect(c.fix).toMatch(/sudo sysctl fs\.inotify\.max_user_watches=\d+/);
    expect(c.fix).toContain("/etc/sysctl.d/");
  });

  it("checkInotifyLimits › counts only the job folders there are, not the configured maximum", async () => {
    const c = await checkInotifyLimits({ jobFolders: 3, maxWatchedJobs: 5000, platform: "linux", procDir: await proc("8192", "128") });
    expect(c.status).toBe("ok");
    expect(c.detail).toContain("up to 3 active jobs of 3");
  });

  it("checkInotifyLimits › warns when instances are low", async () => {
    const c = await checkInotifyLimits({ jobFolders: 1, maxWatchedJobs: 500, platform: "linux", procDir: await proc("524288", "4") });
    expect(c.status).toBe("warn");
    expect(c.fix).toContain("max_user_instances");
  });

  it("checkInotifyLimits › warns when the limits cannot be read", async () => {
    const c = await checkInotifyLimits({ jobFolders: 1, maxWatchedJobs: 500, platform: "linux", procDir: await proc(null, "128") });
    expect(c.status).toBe("warn");
    expect(c.detail).toContain("cannot read");
  });

  it("checkInotifyLimits › skips on other systems", async () => {
    const c = await checkInotifyLimits({ jobFolders: 1, maxWatchedJobs: 500, platform: "darwin" });
    expect(c).toMatchObject({ status: "skip", detail: "not Linux (darwin)" });
  });
});
