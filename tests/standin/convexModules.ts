/**
 * The module map convex-test runs: every `convex/**` source file on disk, imported once.
 *
 * convex-test looks a function's module up as `<root><module path>` with the extension cut
 * off, where `<root>` is whatever precedes `_generated` in the key of a generated file
 * (`findModulesRoot`). So the keys only need a common prefix and the real relative paths.
 * Modules are imported eagerly and the loaders hand back the loaded module, so a call never
 * pays for a dynamic `import()` (slow under vitest's module runner).
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export type ModuleMap = Record<string, () => Promise<Record<string, unknown>>>;

/** The project's `convex/` folder. */
export const CONVEX_DIR = fileURLToPath(new URL("../../convex/", import.meta.url));

const KEY_PREFIX = "../../convex/";

/** Function modules; not `convex.config.*`, which only a deployment evaluates (components are registered instead). */
function isModuleFile(name: string): boolean {
  if (/^convex\.config\.[mc]?[jt]s$/.test(name)) return false;
  return /\.(ts|js|mts|mjs)$/.test(name) && !/\.d\.(ts|mts)$/.test(name) && !/\.test\.[mc]?[jt]s$/.test(name);
}

async function listFiles(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, child)));
    else if (entry.isFile() && isModuleFile(entry.name)) out.push(child);
  }
  return out.sort();
}

/** Imports every module under `convexDir` and returns convex-test's module map. */
export async function loadConvexModules(convexDir = CONVEX_DIR): Promise<ModuleMap> {
  const files = await listFiles(convexDir);
  if (!files.some((f) => f.startsWith("_generated/"))) {
    throw new Error(`${convexDir} has no _generated folder; run \`npx convex codegen --system-udfs --typecheck disable\``);
  }
  const map: ModuleMap = {};
  await Promise.all(
    files.map(async (rel) => {
      const mod = (await import(pathToFileURL(path.join(convexDir, rel)).href)) as Record<string, unknown>;
      map[KEY_PREFIX + rel] = () => Promise.resolve(mod);
    }),
  );
  return map;
}
