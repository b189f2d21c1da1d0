/**
 * Convex's value limits, checked before a write so that a record over them fails with a
 * clear, permanent error naming the field instead of a redacted server error.
 * Pure: the daemon runs the same check locally before it uploads anything.
 *
 * Numbers are the backend's code values (crates/value); field names follow the stricter
 * documented rules for what we write ourselves, and the code rules for user data.
 */
import { getConvexSize, type Value } from "convex/values";

export const LIMITS = {
  documentBytes: 1024 * 1024,
  /**
   * The backend counts nesting as `1 + max(children)` for every object and array, scalars 0,
   * and refuses a document (itself an object, so level 1) nested more than 16 levels. An
   * object or array at `depth` (top-level fields are depth 1) therefore sits at level
   * `depth + 1`, and the deepest container allowed is at depth 15.
   */
  documentNesting: 16,
  arrayLength: 8192,
  objectFields: 1024,
  fieldNameLength: 1024,
} as const;

export type LimitProblem = { field: string; reason: string };

function describeKey(key: string): string | null {
  if (key.startsWith("$")) return "starts with `$`";
  if (key.length > LIMITS.fieldNameLength) return `is longer than ${LIMITS.fieldNameLength} characters`;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return "is not printable ASCII";
  }
  return null;
}

function tooDeep(path: string): LimitProblem {
  return { field: path, reason: `is nested deeper than Convex's ${LIMITS.documentNesting}-level document limit` };
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/**
 * First problem found in a value that will be stored nested at `depth`, or null. Depth 0 is
 * the document itself, depth 1 a top-level field's value (the default), and so on.
 */
export function findValueProblem(value: unknown, path: string, depth = 1): LimitProblem | null {
  if (Array.isArray(value)) {
    if (depth + 1 > LIMITS.documentNesting) return tooDeep(path);
    if (value.length > LIMITS.arrayLength) {
      return { field: path, reason: `has ${value.length} elements, more than ${LIMITS.arrayLength}` };
    }
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined) return { field: `${path}[${i}]`, reason: "is undefined" };
      const p = findValueProblem(value[i], `${path}[${i}]`, depth + 1);
      if (p) return p;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    if (depth + 1 > LIMITS.documentNesting) return tooDeep(path);
    const keys = Object.keys(value);
    if (keys.length > LIMITS.objectFields) {
      return { field: path, reason: `has ${keys.length} fields, more than ${LIMITS.objectFields}` };
    }
    for (const key of keys) {
      const bad = describeKey(key);
      if (bad) return { field: join(path, key), reason: `field name ${JSON.stringify(key)} ${bad}` };
      const p = findValueProblem((value as Record<string, unknown>)[key], join(path, key), depth + 1);
      if (p) return p;
    }
    return null;
  }
  if (typeof value === "bigint" || typeof value === "function" || typeof value === "symbol") {
    return { field: path, reason: `has unsupported type ${typeof value}` };
  }
  return null;
}

/** Checks a whole document about to be written to `table`. */
export function findDocumentProblem(doc: Record<string, unknown>): LimitProblem | null {
  for (const key of Object.keys(doc)) {
    if (key.startsWith("_")) return { field: key, reason: "top-level field names may not start with `_`" };
  }
  const p = findValueProblem(doc, "", 0);
  if (p) return p;
  // 38 + 23 bytes: the system fields `_id` and `_creationTime` count towards the limit.
  const size = getConvexSize(doc as Value) + 61;
  if (size > LIMITS.documentBytes) {
    // Name the largest field so the message says where the bulk is.
    let largest = "";
    let largestSize = -1;
    for (const [k, val] of Object.entries(doc)) {
      const s = getConvexSize(val as Value);
      if (s > largestSize) [largest, largestSize] = [k, s];
    }
    return {
      field: largest,
      reason: `record is ${size} bytes, over Convex's ${LIMITS.documentBytes}-byte document limit (largest field \`${largest}\`: ${largestSize} bytes)`,
    };
  }
  return null;
}
