// Keeps dist/cli.js (the bundled CLI) in step with src/ and convex/, and runs it. Plain
// JavaScript on purpose: it runs before any TypeScript loader exists.
import { mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const entry = path.join(root, "src", "cli", "main.ts");
const bundle = path.join(root, "dist", "cli.js");
const SOURCE_DIRS = ["src", "convex"].map((d) => path.join(root, d));

/** Newest mtime of the sources the bundle is made from (package.json included: the version). */
function newestSourceMtime() {
  let newest = statSync(path.join(root, "package.json")).mtimeMs;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js|json)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of SOURCE_DIRS) walk(d);
  return newest;
}

function bundleIsFresh() {
  try {
    return statSync(bundle).mtimeMs >= newestSourceMtime();
  } catch {
    return false;
  }
}

/** Builds dist/cli.js atomically (temp file + rename), so concurrent starts never see half a file. */
export async function buildBundle() {
  const { build, stop } = await import("esbuild");
  mkdirSync(path.dirname(bundle), { recursive: true });
  const tmp = `${bundle}.${process.pid}.tmp`;
  await build({
    entryPoints: [entry],
    outfile: tmp,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: "inline",
    logLevel: "error",
  });
  renameSync(tmp, bundle);
  // esbuild keeps its service process alive for further builds; this process makes no more.
  await stop?.();
}

export async function runCli(argv) {
  if (process.env.CELSTATE_SYNC_FROM_SOURCE !== "1") {
    let fresh = bundleIsFresh();
    if (!fresh) {
      try {
        await buildBundle();
        fresh = true;
      } catch {
        fresh = false; // read-only install or no esbuild: run from source below
      }
    }
    if (fresh) {
      const { main } = await import(pathToFileURL(bundle).href);
      return await main(argv);
    }
  }
  const { register } = await import("tsx/esm/api");
  register();
  const { main } = await import(pathToFileURL(entry).href);
  return await main(argv);
}
