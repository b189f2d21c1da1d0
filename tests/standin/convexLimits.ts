/**
 * The value limits Convex enforces and convex-test skips, with Convex's own messages:
 * nesting (64 for any value, 16 for a stored document), array length, fields per object,
 * value size. The stand-in checks arguments and return values on the wire and every document
 * a transaction writes. Field names are already checked by `jsonToConvex` when arguments are
 * decoded. Pure; owns no state.
 *
 * Nesting follows the backend (crates/value/src/size.rs): a scalar nests 0 levels, an array or
 * object one more than its deepest element, so a document `{x: [[1]]}` nests 3 levels.
 */
import { getConvexSize, type Value } from "convex/values";
import { LIMITS } from "../../convex/lib/limits.js";

const MiB = 1024 * 1024;

export const CONVEX_LIMITS = {
  valueNesting: 64,
  documentNesting: LIMITS.documentNesting,
  arrayLength: LIMITS.arrayLength,
  objectFields: LIMITS.objectFields,
  documentBytes: LIMITS.documentBytes,
  /** Arguments and return values, each; also the HTTP body limit. */
  wireBytes: 16 * MiB,
} as const;

/** Formats a byte count as the backend's messages do (humansize, binary units). */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 ? String(value) : value.toFixed(2).replace(/\.?0+$/, "");
  return `${text} ${units[unit]}`;
}

/**
 * Nesting of `value`, or the first array/object-width problem met on the way. Iterative, so a
 * hostile argument nested thousands of levels cannot overflow the stack; the walk stops as
 * soon as it passes `maxNesting`.
 */
function measure(value: unknown, maxNesting: number): { nesting: number } | { problem: string } {
  // Depth-first: [value, depth of value's container level].
  const stack: Array<[unknown, number]> = [[value, 1]];
  let deepest = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object" || v instanceof ArrayBuffer) continue;
    if (depth > deepest) deepest = depth;
    if (deepest > maxNesting) return { nesting: deepest };
    if (Array.isArray(v)) {
      if (v.length > CONVEX_LIMITS.arrayLength) {
        return { problem: `Array length is too long (${v.length} > maximum length ${CONVEX_LIMITS.arrayLength})` };
      }
      for (const item of v) stack.push([item, depth + 1]);
    } else {
      const keys = Object.keys(v);
      if (keys.length > CONVEX_LIMITS.objectFields) {
        return {
          problem: `Object has too many fields (${keys.length} > maximum number ${CONVEX_LIMITS.objectFields})`,
        };
      }
      for (const k of keys) stack.push([(v as Record<string, unknown>)[k], depth + 1]);
    }
  }
  return { nesting: deepest };
}

/**
 * How deeply `value` nests, counting no further than `stopAbove + 1`. Iterative, so it is safe
 * on hostile input (use it before anything recursive such as `jsonToConvex`).
 */
export function valueNesting(value: unknown, stopAbove: number): number {
  const stack: Array<[unknown, number]> = [[value, 1]];
  let deepest = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object" || v instanceof ArrayBuffer) continue;
    if (depth > deepest) deepest = depth;
    if (deepest > stopAbove) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Convex reports the first level past the limit. */
export const TOO_NESTED_MESSAGE = `Value is too nested (nested ${CONVEX_LIMITS.valueNesting + 1} levels deep > maximum nesting ${CONVEX_LIMITS.valueNesting})`;

/**
 * A problem with a function's arguments or return value, or null. Arguments travel wrapped
 * in a one-element array, so they may nest one level less than a return value.
 */
export function findWireValueProblem(value: unknown, role: "arguments" | "result"): string | null {
  const maxNesting = role === "arguments" ? CONVEX_LIMITS.valueNesting - 1 : CONVEX_LIMITS.valueNesting;
  const m = measure(value, maxNesting);
  if ("problem" in m) return m.problem;
  const nesting = role === "arguments" ? m.nesting + 1 : m.nesting;
  if (nesting > CONVEX_LIMITS.valueNesting) return TOO_NESTED_MESSAGE;
  const size = getConvexSize(value as Value);
  if (size > CONVEX_LIMITS.wireBytes) {
    return `Value is too large (${formatBytes(size)} > maximum size ${formatBytes(CONVEX_LIMITS.wireBytes)})`;
  }
  return null;
}

/** A problem with a whole document (system fields included) about to be written, or null. */
export function findStoredDocumentProblem(doc: Record<string, unknown>): string | null {
  const m = measure(doc, CONVEX_LIMITS.valueNesting);
  if ("problem" in m) return m.problem;
  if (m.nesting > CONVEX_LIMITS.documentNesting) {
    return `Document is too nested (nested ${m.nesting} levels deep > maximum nesting ${CONVEX_LIMITS.documentNesting})`;
  }
  const size = getConvexSize(doc as Value);
  if (size > CONVEX_LIMITS.documentBytes) {
    return `Value is too large (${formatBytes(size)} > maximum size ${formatBytes(CONVEX_LIMITS.documentBytes)})`;
  }
  return null;
}
