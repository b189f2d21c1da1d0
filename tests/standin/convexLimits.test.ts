/**
 * convexLimits: Convex's value limits and messages, checked without a server.
 */
import { describe, expect, test } from "vitest";
import {
  CONVEX_LIMITS,
  findStoredDocumentProblem,
  findWireValueProblem,
  formatBytes,
  TOO_NESTED_MESSAGE,
  valueNesting,
} from "./convexLimits.js";

/** `levels` containers around a scalar, objects and arrays in turn. */
function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

describe("convexLimits", () => {
  test.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1 KiB"],
    [1_100_000, "1.05 MiB"],
    [16 * 1024 * 1024, "16 MiB"],
  ])("formatBytes › %i bytes reads %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  test("valueNesting › counts scalars 0 and each container 1, and stops early on hostile depth", () => {
    expect(valueNesting(1, 64)).toBe(0);
    expect(valueNesting({ a: [1] }, 64)).toBe(2);
    expect(valueNesting(new ArrayBuffer(4), 64)).toBe(0);
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(valueNesting(deep, 64)).toBe(65);
  });

  test("findWireValueProblem › arguments may nest 63 levels (64 once wrapped), results 64", () => {
    expect(findWireValueProblem(nested(63), "arguments")).toBeNull();
    expect(findWireValueProblem(nested(64), "arguments")).toBe(TOO_NESTED_MESSAGE);
    expect(findWireValueProblem(nested(64), "result")).toBeNull();
    expect(findWireValueProblem(nested(65), "result")).toBe(TOO_NESTED_MESSAGE);
    expect(TOO_NESTED_MESSAGE).toBe("Value is too nested (nested 65 levels deep > maximum nesting 64)");
  });

  test("findWireValueProblem › arrays over 8192 elements, objects over 1024 fields and values over 16 MiB", () => {
    expect(findWireValueProblem({ a: Array(8192).fill(0) }, "result")).toBeNull();
    expect(findWireValueProblem({ a: Array(8193).fill(0) }, "arguments")).toBe("Array length is too long (8193 > maximum length 8192)");
    const wide = Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`f${i}`, 0]));
    expect(findWireValueProblem(wide, "result")).toBe("Object has too many fields (1025 > maximum number 1024)");
    expect(findWireValueProblem({ s: "x".repeat(CONVEX_LIMITS.wireBytes) }, "result")).toMatch(
      /^Value is too large \(16 MiB > maximum size 16 MiB\)$/,
    );
  });

  test("findStoredDocumentProblem › documents nest at most 16 levels (the document is level 1) and weigh at most 1 MiB", () => {
    let arrays: unknown = 1;
    for (let i = 0; i < 15; i++) arrays = [arrays];
    expect(findStoredDocumentProblem({ _id: "1jobs", x: arrays })).toBeNull();
    expect(findStoredDocumentProblem({ _id: "1jobs", x: [arrays] })).toBe(
      "Document is too nested (nested 17 levels deep > maximum nesting 16)",
    );
    expect(findStoredDocumentProblem({ s: "x".repeat(1024 * 1024 - 20) })).toBeNull();
    expect(findStoredDocumentProblem({ s: "x".repeat(1024 * 1024) })).toMatch(/^Value is too large/);
    expect(findStoredDocumentProblem({ list: Array(8193).fill(1) })).toBe("Array length is too long (8193 > maximum length 8192)");
  });
});
