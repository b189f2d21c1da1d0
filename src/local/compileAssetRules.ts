/**
 * Turns asset rules into a matcher and into the list of folders a reader has to list, so a
 * job is read by listing `outputs/` and `trace/` only, never by walking the whole folder
 * (`studio/` can hold many large passes).
 *
 * A rule with `<name>` (see defaultAssetRules) is no glob: the placeholder stands in the last
 * segment, the rest is literal, and the record's name is compared as it is, so a name full of
 * glob characters (`*`, `[`, `{`) or starting with `.` is still only itself. Globs match dot
 * files too: an output may be named `.hidden_gem.png`.
 */
import picomatch from "picomatch";
import { SyncError } from "../errors/SyncError.js";
import { isIgnoredPath, NAME_PLACEHOLDER } from "./defaultAssetRules.js";
import type { AssetRule } from "./types.js";

/** How deep a `**` rule may make a reader descend below its base folder. */
export const MAX_RULE_DEPTH = 16;

export type FolderWalk = {
  /** Posix path relative to the job folder; "" is the job folder itself. */
  base: string;
  /** Levels of entries below `base` to list: 1 lists only `base` itself. */
  depth: number;
};

export type CompiledAssetRules = {
  rules: readonly AssetRule[];
  /**
   * The first rule matching a relative path, or null (always null for ignored paths). A
   * `<name>` rule compares `name` (the record's) literally; with `null` (no name) it matches
   * nothing; with `undefined` (not parsed yet) it matches any name, so a listing made before
   * the parse finds every candidate and `assignRoles` settles the roles afterwards.
   */
  match(relPath: string, name?: string | null): AssetRule | null;
  /** The rules as one string, for fingerprints that depend on them. */
  key: string;
  /** Folders to list, deduplicated, nested bases folded into their parent. */
  walks: readonly FolderWalk[];
};

const cache = new WeakMap<readonly AssetRule[], CompiledAssetRules>();

function invalid(rule: AssetRule, why: string): SyncError {
  return new SyncError("CONFIG_INVALID", `asset rule \`${rule.match}\` (${rule.role}) ${why}`);
}

/** `outputs/<name>_debug.png` → the literal text before and after the placeholder. */
function nameTemplate(rule: AssetRule): { before: string; after: string } | null {
  const at = rule.match.indexOf(NAME_PLACEHOLDER);
  if (at < 0) return null;
  const before = rule.match.slice(0, at);
  const after = rule.match.slice(at + NAME_PLACEHOLDER.length);
  if (after.includes("/") || after.includes(NAME_PLACEHOLDER)) {
    throw invalid(rule, `may use ${NAME_PLACEHOLDER} once, in its last segment`);
  }
  if (picomatch.scan(before + after).isGlob) throw invalid(rule, `mixes ${NAME_PLACEHOLDER} with glob characters; use one or the other`);
  return { before, after };
}

function walkOf(rule: AssetRule): FolderWalk {
  const m = rule.match.replace(NAME_PLACEHOLDER, "x");
  if (m === "" || m.startsWith("/") || m.startsWith("!") || m.includes("\\")) {
    throw invalid(rule, "must be a relative posix glob such as `outputs/*.png`");
  }
  if (m.split("/").some((s) => s === ".." || s === "." || s === "")) {
    throw invalid(rule, "must stay inside the job folder (no `.`, `..` or empty segments)");
  }
  const scan = picomatch.scan(m);
  if (!scan.isGlob) {
    const slash = m.lastIndexOf("/");
    return { base: slash < 0 ? "" : m.slice(0, slash), depth: 1 };
  }
  // `isGlobstar` is only reported by some scan modes; look at the text.
  const unbounded = scan.glob.includes("**") || (scan.isBrace && scan.glob.includes("/"));
  return { base: scan.base, depth: unbounded ? MAX_RULE_DEPTH : scan.glob.split("/").length };
}

export function compileAssetRules(rules: readonly AssetRule[]): CompiledAssetRules {
  const hit = cache.get(rules);
  if (hit) return hit;
  // Fold walks: a base inside another base is covered if the outer walk reaches deep enough.
  // (walkOf also validates each pattern, so it runs before picomatch sees one.)
  const byBase = new Map<string, number>();
  for (const rule of rules) {
    const w = walkOf(rule);
    byBase.set(w.base, Math.max(byBase.get(w.base) ?? 0, w.depth));
  }
  const matchers = rules.map((rule) => {
    const template = nameTemplate(rule);
    if (template === null) {
      const glob = picomatch(rule.match, { dot: true });
      return { rule, test: (relPath: string) => glob(relPath) };
    }
    const { before, after } = template;
    return {
      rule,
      test: (relPath: string, name?: string | null) => {
        if (typeof name === "string") return name !== "" && relPath === `${before}${name}${after}`;
        if (name === null) return false;
        // Name not known yet: any one-segment name could be it (a candidate, re-roled later).
        const middle = relPath.length - before.length - after.length;
        return (
          middle > 0 &&
          relPath.startsWith(before) &&
          relPath.endsWith(after) &&
          !relPath.slice(before.length, before.length + middle).includes("/")
        );
      },
    };
  });
  const all = [...byBase].map(([base, depth]) => ({ base, depth }));
  const walks = all.filter(
    (w) =>
      !all.some((o) => {
        if (o === w) return false;
        const prefix = o.base === "" ? "" : `${o.base}/`;
        if (!w.base.startsWith(prefix)) return false;
        const extra = w.base.slice(prefix.length).split("/").length;
        return o.depth >= extra + w.depth;
      }),
  );
  const compiled: CompiledAssetRules = {
    rules,
    walks,
    key: `${JSON.stringify(rules.map((r) => [r.match, r.role, r.contentType]))}\n`,
    match(relPath, name) {
      if (isIgnoredPath(relPath)) return null;
      return matchers.find((m) => m.test(relPath, name))?.rule ?? null;
    },
  };
  cache.set(rules, compiled);
  return compiled;
}
