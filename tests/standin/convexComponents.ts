/**
 * The Convex components `convex/convex.config.ts` installs, loaded for convex-test the way a
 * deployment runs them: each component's own schema and modules, from its package's compiled
 * component folder (the folder holding its `convex.config.js`).
 */
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { SchemaDefinition, GenericSchema } from "convex/server";
import { loadConvexModules, type ModuleMap } from "./convexModules.js";

export type LoadedComponent = { name: string; schema: SchemaDefinition<GenericSchema, boolean>; modules: ModuleMap };

/** Installed in convex/convex.config.ts: name → package. */
export const INSTALLED_COMPONENTS: Readonly<Record<string, string>> = { migrations: "@convex-dev/migrations" };

const require = createRequire(import.meta.url);

export async function loadConvexComponents(): Promise<LoadedComponent[]> {
  const out: LoadedComponent[] = [];
  for (const [name, pkg] of Object.entries(INSTALLED_COMPONENTS)) {
    const dir = path.dirname(require.resolve(`${pkg}/convex.config.js`));
    const schema = ((await import(pathToFileURL(path.join(dir, "schema.js")).href)) as { default: LoadedComponent["schema"] }).default;
    out.push({ name, schema, modules: await loadConvexModules(dir) });
  }
  return out;
}
