/**
 * `findValueProblem` / `findDocumentProblem` against the backend's rules (get-convex/convex-backend,
 * `crates/value` and `crates/common/src/document.rs`):
 * - nesting: scalars 0, every object or array `1 + max(children)`; a document (an object,
 *   so at least 1) may be nested at most 16;
 * - arrays at most 8192 elements, objects at most 1024 fields;
 * - field names: no leading `$`, only non-control ASCII (0x20–0x7E), at most 1024 long; top-level
 *   document fields may not start with `_`;
 * - size: objects 2 + Σ(name + 1 + value), strings len + 2, numbers 9, null/bool 1, with the
 *   system fields `_id` (38) and `_creationTime` (23) counted, at most 1 MiB.
 * Key rules are also checked against the official client's encoder (`convexToJson`), which
 * refuses the same names before a call leaves the process.
 */
import { convexToJson, type Value } from "convex/values";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { findDocumentProblem, findValueProblem, LIMITS } from "../../convex/lib/limits.js";

/** The backend's nesting measure (crates/value/src/size.rs). */
function nesting(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(nesting));
  if (v !== null && typeof v === "object") return 1 + Math.max(0, ...Object.values(v).map(nesting));
  return 0;
}

function nest(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
}

describe("findValueProblem", () => {
  test.each([null, 0, Number.NaN, Number.POSITIVE_INFINITY, -0, "", "text", true, new ArrayBuffer(4)])(
    "findValueProblem › accepts the scalar %s",
    (v) => {
      expect(findValueProblem(v, "f")).toBeNull();
    },
  );

  test("findValueProblem › a top-level field (default depth 1) may hold 15 levels, not 16", () => {
    expect(findValueProblem(nest(15), "component")).toBeNull();
    expect(findValueProblem(nest(16), "component")).toEqual({
      field: `component${".a".repeat(15)}`,
      reason: expect.stringContaining("nested deeper than"),
    });
  });

  test("findValueProblem › the depth argument shifts the budget: at depth 0 a value may hold 16 levels", () => {
    expect(findValueProblem(nest(16), "", 0)).toBeNull();
    expect(findValueProblem(nest(17), "", 0)).not.toBeNull();
    expect(findValueProblem(nest(14), "x", 2)).toBeNull();
    expect(findValueProblem(nest(15), "x", 2)).not.toBeNull();
    expect(findValueProblem([], "x", 15)).toBeNull();
    expect(findValueProblem(0, "x", 40)).toBeNull();
    expect(findValueProblem([], "x", 16)).toEqual({ field: "x", reason: expect.stringContaining("nested deeper") });
  });

  test("findValueProblem › empty objects and arrays count as a level, like the backend's", () => {
    expect(findValueProblem({ a: [[]] }, "f", 13)).toBeNull();
    expect(findValueProblem({ a: [[]] }, "f", 14)).toEqual({ field: "f.a[0]", reason: expect.any(String) });
  });

  test("findValueProblem › names array elements with [i] and object fields with dots", () => {
    const v = { list: [0, 1, { deep: { $bad: 1 } }] };
    expect(findValueProblem(v, "component")).toEqual({
      field: "component.list[2].deep.$bad",
      reason: 'field name "$bad" starts with `$`',
    });
  });

  test("findValueProblem › arrays: 8192 elements pass, 8193 do not", () => {
    expect(findValueProblem(new Array(LIMITS.arrayLength).fill(0), "a")).toBeNull();
    expect(findValueProblem(new Array(LIMITS.arrayLength + 1).fill(0), "a")).toEqual({
      field: "a",
      reason: "has 8193 elements, more than 8192",
    });
  });

  test("findValueProblem › objects: 1024 fields pass, 1025 do not", () => {
    const fields = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]));
    expect(findValueProblem(fields(1024), "o")).toBeNull();
    expect(findValueProblem(fields(1025), "o")).toEqual({ field: "o", reason: "has 1025 fields, more than 1024" });
  });

  test("findValueProblem › an undefined array element is a problem (the encoder throws on it)", () => {
    expect(findValueProblem([1, undefined], "a")).toEqual({ field: "a[1]", reason: "is undefined" });
  });

  test.each([
    [10n, "bigint"],
    [() => 1, "function"],
    [Symbol("s"), "symbol"],
  ])("findValueProblem › refuses a %s value", (v, type) => {
    expect(findValueProblem({ x: v }, "f")).toEqual({ field: "f.x", reason: `has unsupported type ${type}` });
  });

  test.each([
    ["$ref", "$ref", "starts with `$`"],
    ["größe", "größe", "is not printable ASCII"],
    ["a tab", "tab\there", "is not printable ASCII"],
    ["DEL", "del\u007f", "is not printable ASCII"],
    ["an emoji", "emoji😀", "is not printable ASCII"],
    ["1025 characters", "k".repeat(1025), "is longer than 1024 characters"],
  ])("findValueProblem › refuses a key with %s", (_label, key, reason) => {
    expect(findValueProblem({ [key]: 1 }, "m")).toEqual({ field: `m.${key}`, reason: `field name ${JSON.stringify(key)} ${reason}` });
  });

  test.each([
    ["a$", "a$"],
    ["empty", ""],
    ["a space", " "],
    ["punctuation", "~!@#%^&*()[]{}"],
    ["a leading _ below the top level", "_system_like"],
    ["1024 characters", "k".repeat(1024)],
  ])("findValueProblem › accepts a key with %s", (_label, key) => {
    expect(findValueProblem({ [key]: 1 }, "m")).toBeNull();
  });

  test("findValueProblem › agrees with the official encoder on every key (property)", () => {
    const key = fc.oneof(
      fc.string({ unit: "binary", maxLength: 6 }),
      fc.string({ unit: "binary", maxLength: 4 }).map((s) => `$${s}`),
      fc.integer({ min: 1020, max: 1030 }).map((n) => "k".repeat(n)),
    );
    fc.assert(
      fc.property(key, (k) => {
        let encoderRefuses = false;
        try {
          convexToJson({ [k]: 1 });
        } catch {
          encoderRefuses = true;
        }
        expect(findValueProblem({ [k]: 1 }, "m") !== null).toBe(encoderRefuses);
      }),
    );
  });
});

describe("findDocumentProblem", () => {
  test("findDocumentProblem › refuses a top-level field starting with `_`, allows one nested", () => {
    expect(findDocumentProblem({ _id: "x" })).toEqual({ field: "_id", reason: expect.stringContaining("`_`") });
    expect(findDocumentProblem({ ok: { _nested: 1 } })).toBeNull();
  });

  test("findDocumentProblem › a document may be nested 16 levels in all, not 17 (property against the backend's measure)", () => {
    const leaf = fc.constantFrom<unknown>(0, "s", null);
    const tree = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: "small", maxDepth: 20 },
        leaf,
        fc.array(tie("node"), { maxLength: 2 }),
        fc.dictionary(fc.constantFrom("a", "b"), tie("node"), { maxKeys: 2 }),
      ),
    })).node;
    const chain = fc.integer({ min: 10, max: 20 }).map((n) => nest(n));
    fc.assert(
      fc.property(fc.oneof(tree, chain), tree, (x, y) => {
        const doc = { x, y };
        const tooDeep = nesting(doc) > LIMITS.documentNesting;
        const problem = findDocumentProblem(doc);
        expect(problem !== null && /nested deeper/.test(problem.reason)).toBe(tooDeep);
      }),
      { numRuns: 300 },
    );
  });

  test("findDocumentProblem › the 16-level boundary, exactly", () => {
    expect(nesting({ component: nest(15) })).toBe(16);
    expect(findDocumentProblem({ component: nest(15) })).toBeNull();
    expect(findDocumentProblem({ component: nest(16) })).toEqual({
      field: `component${".a".repeat(15)}`,
      reason: expect.stringContaining("16-level"),
    });
  });

  test("findDocumentProblem › 1 MiB including the system fields passes, one byte more does not", () => {
    // {p: "x" * n}: 2 + (1 + 1 + n + 2) = n + 6 bytes, plus `_id` (3 + 1 + 34) and
    // `_creationTime` (13 + 1 + 9): n + 67 in all.
    const n = LIMITS.documentBytes - 67;
    expect(findDocumentProblem({ p: "x".repeat(n) })).toBeNull();
    const over = findDocumentProblem({ p: "x".repeat(n + 1), small: 1 });
    expect(over).toEqual({ field: "p", reason: expect.stringContaining("over Convex's 1048576-byte document limit") });
    // One byte over, plus `small` (5 + 1 + 9).
    expect(over!.reason).toContain(`record is ${LIMITS.documentBytes + 1 + 15} bytes`);
  });

  test("findDocumentProblem › names the largest field of an oversized record", () => {
    const third = Math.ceil(LIMITS.documentBytes / 3);
    const p = findDocumentProblem({ a: "x".repeat(third), b: "y".repeat(third + 10), c: "z".repeat(third) });
    expect(p?.field).toBe("b");
    expect(p?.reason).toMatch(/largest field `b`: \d+ bytes/);
  });

  test("findDocumentProblem › counts multi-byte characters as UTF-8 bytes", () => {
    const n = Math.floor((LIMITS.documentBytes - 67) / 3);
    expect(findDocumentProblem({ p: "€".repeat(n) })).toBeNull();
    expect(findDocumentProblem({ p: "€".repeat(n + 1) })).not.toBeNull();
  });

  test("findDocumentProblem › keeps NaN and infinities (Convex stores IEEE floats)", () => {
    expect(findDocumentProblem({ t: { a: Number.NaN, b: Number.POSITIVE_INFINITY, c: Number.NEGATIVE_INFINITY, d: -0 } })).toBeNull();
  });

  test("findDocumentProblem › a document the encoder accepts is one findDocumentProblem accepts, for the samples' shapes", () => {
    const doc = {
      component: { manifest: { intrinsics: { size: { width: 1 } } }, assets: { "a.png": null } },
      telemetry: { edge_noise: Number.NaN },
    };
    expect(() => convexToJson(doc as Value)).not.toThrow();
    expect(findDocumentProblem(doc)).toBeNull();
  });
});
