/**
 * The README's quick start, pasted as it is into a fresh clone: every line but `npm ci` (the
 * install this suite runs in already did it; the clone shares its node_modules) runs literally in
 * bash, the daemon's `watch` line under a timeout that stops it as Ctrl-C would.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, cleanEnv } from "../helpers/runCli.js";

/**
 * Runs `script` in bash, in its own process group: past `timeoutMs` the whole group is killed,
 * the stand-in the script starts in the background included.
 */
function bash(script: string, cwd: string, timeoutMs = 100_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], { cwd, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // the group is gone already
      }
    }, timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function quickStartLines(): Promise<string[]> {
  const readme = await readFile(path.join(REPO, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Quick start"));
  const block = section.slice(section.indexOf("```sh\n") + 6, section.indexOf("```", section.indexOf("```sh\n") + 6));
  return block.split("\n").filter((l) => l.trim() !== "");
}

describe("the README's quick start", () => {
  it("quick start › works pasted into a fresh clone: the stand-in, sample jobs, a backfill, and watch until Ctrl-C", async () => {
    const lines = await quickStartLines();
    expect(lines[0]).toBe("npm ci");
    const watchLine = lines.at(-1)!;
    expect(watchLine).toMatch(/^node bin\/celstate-sync\.js watch /);
    const setup = lines.slice(1, -1);
    const clone = await mkdtemp(path.join(tmpdir(), "celstate-quickstart-"));
    try {
      const cloned = await bash(`git clone --quiet ${JSON.stringify(REPO)} .`, clone);
      expect(cloned.code, cloned.stderr).toBe(0);
      await symlink(path.join(REPO, "node_modules"), path.join(clone, "node_modules"));
      const script = [
        "set -eu",
        ...setup,
        "trap 'kill %1' EXIT",
        // Ctrl-C after a few seconds of watching: SIGINT drains and exits 0.
        `timeout --preserve-status --signal=INT 8 ${watchLine}`,
      ].join("\n");
      const r = await bash(script, clone);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toContain("listening on http://127.0.0.1:3210");
      expect(r.stdout).toMatch(/^3 jobs in /m);
      expect(r.stdout).toMatch(/^ {2}synced now +3$/m);
      expect(r.stderr).toContain('"msg":"watching"');
    } finally {
      await rm(clone, { recursive: true, force: true });
    }
  }, 120_000);
});
