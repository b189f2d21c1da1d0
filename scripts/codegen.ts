/**
 * `npm run codegen`: `convex/_generated` without a deployment.
 *
 * `npx convex codegen --system-udfs` writes everything offline except the `components` export,
 * which the CLI otherwise takes from a deployment's analysis of `convex.config.ts`. This adds
 * it in the form that analysis produces (each installed component's own `ComponentApi` type,
 * `componentsGeneric()` at run time), so the committed files match what `npx convex dev` and
 * `npx convex deploy` write. Components: the `app.use(...)` calls of convex/convex.config.ts.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const GENERATED = new URL("../convex/_generated/", import.meta.url);

/** name → package, from `import <name> from "<package>/convex.config.js"` + `app.use(<name>)`. */
function installedComponents(): Array<{ name: string; pkg: string }> {
  const config = readFileSync(new URL("../convex/convex.config.ts", import.meta.url), "utf8");
  const imports = new Map<string, string>();
  for (const m of config.matchAll(/import\s+(\w+)\s+from\s+"([^"]+)\/convex\.config(?:\.js)?"/g)) imports.set(m[1]!, m[2]!);
  return [...config.matchAll(/app\.use\((\w+)\)/g)].map((m) => {
    const pkg = imports.get(m[1]!);
    if (pkg === undefined) throw new Error(`convex.config.ts: app.use(${m[1]}) without an import of <package>/convex.config.js`);
    return { name: m[1]!, pkg };
  });
}

execFileSync("npx", ["convex", "codegen", "--system-udfs", "--typecheck", "disable"], { stdio: "inherit" });

const components = installedComponents();
const jsPath = new URL("api.js", GENERATED);
const js = readFileSync(jsPath, "utf8");
writeFileSync(
  jsPath,
  `${js
    .replace('import { anyApi } from "convex/server";', 'import { anyApi, componentsGeneric } from "convex/server";')
    .trimEnd()}\nexport const components = componentsGeneric();\n`,
);
const dtsPath = new URL("api.d.ts", GENERATED);
const lines = components.map(({ name, pkg }) => `  ${name}: import("${pkg}/_generated/component.js").ComponentApi<"${name}">;`);
writeFileSync(dtsPath, `${readFileSync(dtsPath, "utf8").trimEnd()}\n\nexport declare const components: {\n${lines.join("\n")}\n};\n`);
console.log(`codegen: components ${components.map((c) => c.name).join(", ") || "(none)"}`);
