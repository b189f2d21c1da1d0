/**
 * Turns asset rules into a matcher and into the list of folders a reader has to list, so a
 * job is read by listing `outputs/` and `trace/` only, never by walking the whole folder
 * (`studio/` can hold many large passes).
 */
import picomatch from "picomatch";
import { SyncError } from "../errors/SyncError.js";
import { isIgnoredPath } from "./defaultAssetRules.js";
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
  /** The first rule matching a relative path, or null (always null for ignored paths). */
  match(relPath: string): AssetRule | null;
  /** Folders to list, deduplicated, nested bases folded into their parent. */
  walks: readonly FolderWalk[];
};

const cache = new WeakMap<readonly AssetRule[], CompiledAssetRules>();

function invalid(rule: AssetRule, why: string): SyncError {
  return new SyncError("CONFIG_INVALID", `asset rule \`${rule.match}\` (${rule.role}) ${why}`);
}

function walkOf(rule: AssetRule): FolderWalk {
  const m = rule.match;
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
  const matchers = rules.map((rule) => ({ rule, test: picomatch(rule.match) }));
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
    match(relPath) {
      if (isIgnoredPath(relPath)) return null;
      return matchers.find((m) => m.test(relPath))?.rule ?? null;
    },
  };
  cache.set(rules, compiled);
  return compiled;
}
