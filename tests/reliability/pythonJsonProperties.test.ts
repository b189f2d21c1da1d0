/**
 * Properties of the job.json reader and writer (fast-check):
 * - any JSON-like value, NaN, ±Infinity and -0 included, written by `stringifyPythonJson`
 *   parses back equal (Object.is on every leaf), and so do JobRecord-like records, whose
 *   mapped record hash is then the same;
 * - on standard JSON, the parser agrees with JSON.parse;
 * - random bytes, and random strings made of JSON's own tokens, never crash it: they parse or
 *   throw PythonJsonError (never a RangeError, a TypeError, or a hang).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkJobRecord, recordHash, toConvexRecord } from "../../src/local/jobRecord.js";
import { decodeJobJson } from "../../src/local/openJobJson.js";
import { PythonJsonError, parsePythonJson, stringifyPythonJson } from "../../src/local/pythonJson.js";

/** Deep equality with Object.is on leaves: NaN equals NaN, -0 differs from 0. */
function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a !== null && typeof a === "object") {
    if (b === null || typeof b !== "object" || Array.isArray(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k) => Object.hasOwn(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return Object.is(a, b);
}

/** Every float, the special ones made likely. */
const number = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1e-5, 1e21, 5e-324, Number.MAX_VALUE),
  fc.integer(),
);
/** Strings of any UTF-16 code units, lone surrogates and control characters included. */
const text = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme" }),
  fc.constantFrom("", "\u0000", "\ud800", "\u2028", '"\\'),
);
const key = fc.oneof(text, fc.constantFrom("__proto__", "constructor", "toString", "$ref", "_x"));

const { value: jsonLike } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    number,
    text,
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(key, tie("value"), { maxKeys: 5 }),
  ),
}));

const iso = fc
  .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true })
  .chain((d) =>
    fc.integer({ min: 0, max: 999 }).map((us) => d.toISOString().replace(/\.(\d{3})Z$/, `.$1${String(us).padStart(3, "0")}+00:00`)),
  );

const jobRecordLike = fc.record(
  {
    id: fc.uuid(),
    type: fc.constantFrom("container", "icon", "texture", "effect", "image", "decoration"),
    layout_intent: fc.option(text, { nil: null }),
    prompt: text,
    style_context: fc.option(text, { nil: null }),
    name: fc.option(text, { nil: null }),
    created_at: iso,
    updated_at: iso,
    status: fc.constantFrom("queued", "running", "succeeded", "failed"),
    progress_stage: fc.option(text, { nil: null }),
    component: fc.option(
      fc.record({
        manifest: fc.dictionary(key, jsonLike, { maxKeys: 4 }),
        assets: fc.dictionary(text, fc.constant(null), { maxKeys: 3 }),
        telemetry: fc.dictionary(key, number, { maxKeys: 4 }),
      }),
      { nil: null },
    ),
    error: fc.option(text, { nil: null }),
    render_size_hint: fc.integer({ min: 0, max: 4096 }),
    retry_after: fc.integer({ min: 0, max: 3600 }),
    telemetry: fc.dictionary(key, jsonLike, { maxKeys: 4 }),
    extra_key: jsonLike,
  },
  { requiredKeys: ["id", "type", "prompt", "created_at", "updated_at", "status", "component", "error"] },
);

function parsesOrRefuses(input: string): void {
  try {
    parsePythonJson(input);
  } catch (e) {
    if (!(e instanceof PythonJsonError))
      throw new Error(`threw ${(e as Error).name}: ${(e as Error).message} for ${JSON.stringify(input.slice(0, 80))}`);
  }
}

describe("pythonJson properties", () => {
  it("parsePythonJson › any JSON-like value written by stringifyPythonJson parses back equal, NaN/±Infinity/-0 included", () => {
    fc.assert(
      fc.property(jsonLike, fc.constantFrom(0, 2, 4), (v, indent) => {
        const back = parsePythonJson(stringifyPythonJson(v, indent));
        expect(same(back, v), stringifyPythonJson(v)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("parsePythonJson › JobRecord-like records round-trip, validate, and keep their record hash", () => {
    fc.assert(
      fc.property(jobRecordLike, (rec) => {
        const textOf = stringifyPythonJson(rec);
        const back = parsePythonJson(textOf) as Record<string, unknown>;
        expect(same(back, rec)).toBe(true);
        const a = checkJobRecord(rec);
        const b = checkJobRecord(back);
        expect(b.ok).toBe(a.ok);
        if (a.ok && b.ok) expect(recordHash(toConvexRecord(b.record))).toBe(recordHash(toConvexRecord(a.record)));
      }),
      { numRuns: 300 },
    );
  });

  it("parsePythonJson › agrees with JSON.parse on standard JSON", () => {
    fc.assert(
      fc.property(fc.json({ depthSize: "small" }), (s) => {
        expect(same(parsePythonJson(s), JSON.parse(s))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("parsePythonJson › random bytes never crash it: they parse or throw PythonJsonError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const s = decodeJobJson(bytes);
        if (s !== null) parsesOrRefuses(s);
      }),
      { numRuns: 2_000 },
    );
  });

  it("parsePythonJson › strings made of JSON's own tokens never crash it", () => {
    const token = fc.constantFrom(
      "{",
      "}",
      "[",
      "]",
      ":",
      ",",
      '"',
      '"a"',
      "\\",
      "\\u",
      "\\ud800",
      "NaN",
      "Infinity",
      "-Infinity",
      "-",
      "0",
      "1.5e3",
      "e",
      ".",
      "true",
      "nul",
      " ",
      "\n",
      "\u0000",
      "\ufeff",
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), (parts) => parsesOrRefuses(parts.join(""))),
      { numRuns: 3_000 },
    );
  });

  it("parsePythonJson › any nesting depth, closed or not, parses or is refused without exhausting the stack", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200_000 }),
        fc.constantFrom("[", '{"a":'),
        fc.boolean(),
        fc.boolean(),
        (depth, open, closed, nan) => {
          const close = open === "[" ? "]" : "}";
          parsesOrRefuses(`${open.repeat(depth)}${nan ? "NaN" : "1"}${closed ? close.repeat(depth) : ""}`);
        },
      ),
      { numRuns: 40 },
    );
  });
});
