// `npm run build`: bundles the TypeScript sources and their dependencies into dist/ with
// esbuild (source maps beside each file, the dependencies' licence comments in
// dist/cli.js.LEGAL.txt):
//   dist/celstate-sync.js  the executable (package.json `bin`): checks the Node.js version,
//                          then loads dist/cli.js
//   dist/cli.js            the CLI (src/cli/main.ts and everything it imports)
// Plain JavaScript on purpose: it runs before any TypeScript loader exists. Each file is
// written to a temporary name and renamed, so a CLI starting meanwhile never reads half a file.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const distDir = path.join(root, "dist");
export const OUTPUTS = ["celstate-sync.js", "cli.js"].map((f) => path.join(distDir, f));

/**
 * Dependencies loaded from node_modules at run time rather than bundled: pino and pino-pretty
 * (pino starts its transports in worker threads that load them by name) and koffi (a native
 * module). Everything else is bundled: Node resolves, reads and compiles one file instead of a
 * few hundred, which takes `--version` from 0.40-0.54 s to 0.27-0.34 s (5 runs each here).
 */
const EXTERNAL = ["pino", "pino-pretty", "koffi"];

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: EXTERNAL,
  // Bundled CommonJS dependencies require Node's own modules; an ES module has no `require`.
  banner: { js: 'import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);' },
  legalComments: "linked",
  sourcemap: "external",
  sourcesContent: true,
  logLevel: "error",
  write: false,
  absWorkingDir: root,
};

/** src/cli/bin.ts imports "./main.js"; built, that is the sibling bundle dist/cli.js. */
const cliAsSibling = {
  name: "cli-as-sibling",
  setup(build) {
    build.onResolve({ filter: /^\.\/main\.js$/ }, () => ({ path: "./cli.js", external: true }));
  },
};

export async function build() {
  const esbuild = await import("esbuild");
  try {
    const results = await Promise.all([
      esbuild.build({ ...common, entryPoints: ["src/cli/bin.ts"], outfile: OUTPUTS[0], plugins: [cliAsSibling] }),
      esbuild.build({ ...common, entryPoints: ["src/cli/main.ts"], outfile: OUTPUTS[1] }),
    ]);
    mkdirSync(distDir, { recursive: true });
    // Source maps and licences first, then the code that points at them.
    const files = results.flatMap((r) => r.outputFiles).sort((a, b) => Number(a.path.endsWith(".js")) - Number(b.path.endsWith(".js")));
    for (const file of files) {
      const tmp = `${file.path}.${process.pid}.tmp`;
      writeFileSync(tmp, file.contents, { mode: file.path.endsWith(".js") ? 0o755 : 0o644 });
      renameSync(tmp, file.path);
    }
  } finally {
    // esbuild keeps a service process alive for further builds; this process makes no more.
    await esbuild.stop?.();
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await build();
}
