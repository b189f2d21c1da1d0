/**
 * `doctor --as-user <name>`: run as root (as an operator runs it before `systemctl start`), it
 * checks that the service user, not root, can reach the jobs folder, create the instance lock in
 * it and write failure markers into every job folder. Refused in one coded line (exit 2) when
 * not run as root, or when the user does not exist. The checks as another user need root here
 * (they chown folders to `nobody`); the refusal runs the CLI as `nobody` through setpriv.
 */
import { execFileSync } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DoctorCheck } from "../../src/ops/DoctorCheck.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { cleanEnv, type CliResult, runCli } from "../helpers/runCli.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";

const isRoot = process.getuid?.() === 0;
const nobody = {
  uid: Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" })),
  gid: Number(execFileSync("id", ["-g", "nobody"], { encoding: "utf8" })),
};

let h: Harness;
let scratch: string;
beforeAll(async () => {
  h = await createHarness();
  scratch = await mkdtemp(path.join(tmpdir(), "celstate-as-user-"));
  // Both reachable by another user: mkdtemp makes them 0700.
  await chmod(scratch, 0o755);
  await chmod(h.jobsDir, 0o755);
});
afterAll(async () => {
  await h?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

const env = () => cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: h.token });

/** The CLI as `nobody` (when this test runs as root) or as the user running the test. */
function runAsNonRoot(args: string[]): Promise<CliResult> {
  // dist/ is built by the suite's global setup: the checkout's entry has nothing to rebuild.
  const via = isRoot ? ["setpriv", "--reuid", String(nobody.uid), "--regid", String(nobody.gid), "--clear-groups", "--"] : [];
  return runCli(args, { env: env(), cwd: scratch, via });
}

function oneCodedLine(r: CliResult, code: string): string {
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toContain(`[${code}]`);
  expect(r.stdout).toBe("");
  return lines[0]!;
}

async function doctorAs(user: string): Promise<{ code: number | null; check: DoctorCheck | undefined; checks: DoctorCheck[] }> {
  const r = await runCli(["doctor", "--jobs-dir", h.jobsDir, "--as-user", user, "--json", "--log-level", "silent"], {
    env: env(),
    cwd: scratch,
  });
  const { checks } = JSON.parse(r.stdout) as { checks: DoctorCheck[] };
  return { code: r.code, check: checks.find((c) => c.id === "as-user"), checks };
}

describe("doctor --as-user", () => {
  it("doctor --as-user › refused when not run as root: exit 2, one ROOT_REQUIRED line saying to use sudo", async () => {
    const r = await runAsNonRoot(["doctor", "--jobs-dir", h.jobsDir, "--as-user", "nobody"]);
    expect(r.code).toBe(2);
    expect(oneCodedLine(r, "ROOT_REQUIRED")).toMatch(/sudo/);
  });

  it("doctor --as-user › a user that does not exist: exit 2, one USER_UNKNOWN line naming it", async () => {
    const r = await runCli(["doctor", "--jobs-dir", h.jobsDir, "--as-user", "celstate-no-such-user"], { env: env(), cwd: scratch });
    expect(r.code).toBe(2);
    expect(oneCodedLine(r, "USER_UNKNOWN")).toContain("`celstate-no-such-user`");
  });

  it.runIf(isRoot)(
    "doctor --as-user › a jobs folder root may write but the user may not: FAIL naming the folder, exit 1; once it is the user's, ok, exit 0",
    async () => {
      const job = new PipelineJob(h.jobsDir);
      await job.runToSuccess();
      await chown(h.jobsDir, 0, 0);
      await chmod(h.jobsDir, 0o755);

      const refused = await doctorAs("nobody");
      expect(refused.check?.status, JSON.stringify(refused.checks)).toBe("fail");
      expect(refused.check?.detail).toContain(`${h.jobsDir} is not writable by nobody`);
      // Root itself could write there: the plain jobs-folder check passes.
      expect(refused.checks.find((c) => c.id === "jobs-dir")?.status).toBe("ok");
      expect(refused.code).toBe(1);

      // The folder the user's through its primary group (nobody's own group): enough.
      await chown(h.jobsDir, 0, nobody.gid);
      await chmod(h.jobsDir, 0o775);
      for (const p of [job.dir, path.join(job.dir, "job.json")]) await chown(p, nobody.uid, nobody.gid);
      const allowed = await doctorAs("nobody");
      expect(allowed.check?.status, JSON.stringify(allowed.checks)).toBe("ok");
      expect(allowed.check?.detail).toContain("1 job folder");
      expect(allowed.code).toBe(0);
    },
  );

  it.runIf(isRoot)(
    "doctor --as-user › a job folder the user may not write, a folder on the way it may not enter: FAIL naming each",
    async () => {
      await chown(h.jobsDir, nobody.uid, nobody.gid);
      const locked = new PipelineJob(h.jobsDir);
      await locked.runToSuccess(); // written by root: root's, 0755
      const blocked = await doctorAs("nobody");
      expect(blocked.check?.status).toBe("fail");
      expect(blocked.check?.detail).toContain(locked.id);

      const hidden = path.join(scratch, "private");
      await mkdir(path.join(hidden, "jobs"), { recursive: true });
      await chmod(hidden, 0o700);
      await chown(path.join(hidden, "jobs"), nobody.uid, nobody.gid);
      const r = await runCli(
        ["doctor", "--jobs-dir", path.join(hidden, "jobs"), "--as-user", "nobody", "--json", "--log-level", "silent"],
        { env: env(), cwd: scratch },
      );
      const check = (JSON.parse(r.stdout) as { checks: DoctorCheck[] }).checks.find((c) => c.id === "as-user");
      expect(check?.status).toBe("fail");
      expect(check?.detail).toContain(`cannot enter ${hidden}`);
    },
  );
});
