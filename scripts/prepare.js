// `prepare` (run by `npm ci` / `npm install` in a checkout, and before `npm pack`): applies
// patches/ to the development dependencies they fix, then builds dist/. An install without
// development dependencies (`--omit=dev`) has neither patch-package nor esbuild: it says so
// instead of failing; production installs the packed package, which ships dist/ built (and
// where npm runs this only if told to, it finds no src/ and does nothing).
import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { build, root } from "./build.js";

const has = (pkg) => existsSync(path.join(root, "node_modules", pkg, "package.json"));

if (!existsSync(path.join(root, "src"))) {
  // The installed package: dist/ ships built, there is nothing to prepare.
} else if (!has("esbuild")) {
  process.stderr.write(
    "celstate-sync: development dependencies are not installed: dist/ not built (run `npm ci`, or install the packed package)\n",
  );
} else {
  if (has("patch-package")) {
    execFileSync(process.execPath, [path.join(root, "node_modules", "patch-package", "index.js")], {
      cwd: root,
      stdio: ["ignore", process.stderr, "inherit"],
    });
  }
  await build();
}
