#!/usr/bin/env node
// The CLI in a checkout (`node bin/celstate-sync.js <command>`). An installed package runs
// dist/celstate-sync.js directly (package.json `bin`) and never writes into its own folder;
// here, in a development checkout, dist/ is rebuilt first whenever a source is newer
// (`npm run build`, ~0.3 s), so an edit is never run stale. If dist/ cannot be written or
// esbuild is absent, the sources run through tsx instead (slower start).
// Plain JavaScript on purpose: it runs before any TypeScript loader exists.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { OUTPUTS, build, root } from "../scripts/build.js";

/** Newest mtime of what dist/ is built from (package.json included: the version). */
function newestSourceMtime() {
  let newest = statSync(path.join(root, "package.json")).mtimeMs;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js|json)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of ["src", "convex"]) walk(path.join(root, d));
  return newest;
}

function distIsFresh() {
  try {
    return Math.min(...OUTPUTS.map((f) => statSync(f).mtimeMs)) >= newestSourceMtime();
  } catch {
    return false;
  }
}

let fresh = process.env.CELSTATE_SYNC_FROM_SOURCE !== "1" && distIsFresh();
if (!fresh && process.env.CELSTATE_SYNC_FROM_SOURCE !== "1") {
  try {
    await build();
    fresh = true;
  } catch {
    fresh = false; // read-only checkout or no esbuild: run from source below
  }
}
if (fresh) {
  await import(pathToFileURL(OUTPUTS[0]).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(path.join(root, "src", "cli", "bin.ts")).href);
}
