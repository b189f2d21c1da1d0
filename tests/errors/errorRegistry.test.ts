import { execSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { FUNCTION_ERROR_CODES } from "../../convex/lib/errors.js";
import { ERROR_CODES } from "../../src/errors/codes.js";

const readme = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../README.md"), "utf8");
const section = readme.slice(readme.indexOf("## Error codes"), readme.indexOf("## Testing"));

function tableRows(text: string): Array<string[]> {
  return text
    .split("\n")
    .filter((l) => /^\| `[A-Z_]+` \|/.test(l))
    .map((l) =>
      l
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim().replace(/^`|`$/g, "")),
    );
}

describe("error registry", () => {
  it("error registry › the README lists every daemon code with its kind, marker rule and text, and nothing else", () => {
    const rows = tableRows(section).filter((r) => r.length === 4);
    const listed = Object.fromEntries(rows.map(([code, kind, marker, text]) => [code, { kind, marker, text }]));
    expect(listed).toEqual(
      Object.fromEntries(Object.entries(ERROR_CODES).map(([k, v]) => [k, { kind: v.kind, marker: v.marker, text: v.text }])),
    );
  });

  it("error registry › the README lists every Convex function code", () => {
    const rows = tableRows(section).filter((r) => r.length === 2);
    expect(rows.map((r) => r[0]).sort()).toEqual([...FUNCTION_ERROR_CODES].sort());
  });

  it("error registry › every code is used somewhere in the source", () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
    // Files git knows of that exist now (one deleted or renamed in the working tree is skipped).
    const src = execSync("git ls-files --cached --others --exclude-standard src convex", { cwd: root, encoding: "utf8" })
      .split("\n")
      .filter((f) => f !== "" && !f.includes("_generated") && existsSync(path.join(root, f)))
      .map((f) => readFileSync(path.join(root, f), "utf8"))
      .join("\n");
    for (const code of Object.keys(ERROR_CODES)) {
      const uses = src.split(`"${code}"`).length - 1;
      expect(uses, `${code} is only declared, never raised`).toBeGreaterThan(0);
    }
  });
});
