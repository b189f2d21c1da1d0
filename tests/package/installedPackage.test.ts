/**
 * The package as an operator installs it: `npm pack`, then `npm install -g` into a prefix of
 * its own, made read-only and run as an unprivileged user (as under a hardened systemd unit).
 * It must hold the built CLI and nothing of the development tree, start without tsx or a
 * build, and never write into its own folder.
 */
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { REPO, cleanEnv } from "../helpers/runCli.js";
import { createHarness } from "../helpers/syncHarness.js";

const run = promisify(execFile);
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

let work: string;
let packed: { files: string[]; tarball: string };
let installedBin: string;
let installedPkg: string;

/** path → size and mtime of every file under `dir`: what "nothing was written" is checked against. */
async function treeSnapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    const s = await stat(p).catch(() => null);
    out.set(path.relative(dir, p), s === null ? "dangling" : `${s.isDirectory() ? "d" : s.size}@${s.mtimeMs}`);
  }
  return out;
}

/** Runs the installed binary; as root, as `nobody` (root writes through any permission bit). */
async function runInstalled(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  const [cmd, argv] = asRoot
    ? ["setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", installedBin, ...args]]
    : [installedBin, args];
  try {
    const r = await run(cmd as string, argv as string[], { env, cwd, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "celstate-pkg-"));
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: REPO, maxBuffer: 16 << 20 });
  const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  packed = { files: info!.files.map((f) => f.path), tarball: path.join(work, info!.filename) };
  const prefix = path.join(work, "prefix");
  // The dependencies come from npm's cache, filled by the install of this checkout.
  await run("npm", ["install", "--global", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", packed.tarball], {
    cwd: work,
    maxBuffer: 16 << 20,
  });
  installedBin = path.join(prefix, "bin", "celstate-sync");
  installedPkg = path.join(prefix, "lib", "node_modules", "celstate-sync");
  await run("chmod", ["-R", "a-w", prefix]);
  await chmod(work, 0o755);
}, 180_000);

afterAll(async () => {
  if (work !== undefined) {
    await run("chmod", ["-R", "u+w", work]).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
});

describe("the packed package", () => {
  it("package › holds the built CLI, its source maps and the deploy files, and nothing of the development tree", () => {
    expect(packed.files).toEqual(
      expect.arrayContaining(["dist/celstate-sync.js", "dist/cli.js", "dist/cli.js.map", "deploy/celstate-sync@.service", "README.md"]),
    );
    const dev = packed.files.filter((f) => /^(src|tests|bench|\.ci|node_modules|patches|convex)\//.test(f) || f === "bin/celstate-sync.js");
    expect(dev).toEqual([]);
  });

  it("package › bin is the built file; tsx and esbuild are development dependencies only", async () => {
    const pkg = JSON.parse(await readFile(path.join(installedPkg, "package.json"), "utf8")) as {
      bin: Record<string, string>;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.bin).toEqual({ "celstate-sync": "dist/celstate-sync.js" });
    for (const dev of ["tsx", "esbuild", "vitest", "typescript"]) {
      expect(pkg.dependencies).not.toHaveProperty(dev);
      expect(pkg.devDependencies).toHaveProperty(dev);
    }
    // Nothing pulled tsx into the production install either.
    await expect(stat(path.join(installedPkg, "node_modules", "tsx"))).rejects.toThrow();
  });
});

describe("the installed package, read-only and run as an unprivileged user", () => {
  it("install › --version, --help and a backfill against the stand-in work, and nothing is written into the install", async () => {
    const before = await treeSnapshot(path.dirname(path.dirname(installedBin)));
    const h = await createHarness();
    try {
      await new PipelineJob(h.jobsDir).runToSuccess();
      await run("chmod", ["-R", "a+rwX", h.jobsDir]);
      const env = cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: h.token, HOME: "/nonexistent" });
      const pkgVersion = (JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as { version: string }).version;

      const version = await runInstalled(["--version"], env, h.jobsDir);
      expect(version).toMatchObject({ code: 0 });
      expect(version.stdout.trim()).toBe(pkgVersion);

      const help = await runInstalled(["--help"], env, h.jobsDir);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain("backfill");

      const backfill = await runInstalled(["backfill", "--jobs-dir", h.jobsDir, "--json"], env, h.jobsDir);
      expect(backfill.stderr).not.toMatch(/tsx|esbuild/);
      expect(backfill.code).toBe(0);
      expect(JSON.parse(backfill.stdout.trim())).toMatchObject({ jobs: 1, syncedNow: 1, failed: [] });
    } finally {
      await h.cleanup();
    }
    expect(await treeSnapshot(path.dirname(path.dirname(installedBin)))).toEqual(before);
  });
});
