import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePythonJson, stringifyPythonJson } from "../../src/local/pythonJson.js";
import { editTopLevel, joinTopLevel, splitTopLevel, topLevelIndent } from "../../convex/lib/topLevelMembers.js";

const SAMPLES = path.resolve(import.meta.dirname, "../fixtures/samples");
const samples = readdirSync(SAMPLES).filter((f) => f.endsWith(".json"));

describe("splitTopLevel", () => {
  it.each(samples)("splitTopLevel › join(split(x)) is x for sample %s", (file) => {
    const text = readFileSync(path.join(SAMPLES, file), "utf8");
    const split = splitTopLevel(text);
    expect(joinTopLevel(split)).toBe(text);
    expect(split.members.map((m) => m.key)).toEqual(Object.keys(parsePythonJson(text) as object));
    expect(topLevelIndent(split)).toBe(2);
  });

  it("splitTopLevel › finds values whose strings contain brackets, quotes and commas", () => {
    const text = '{ "a" : "}],\\"{" ,"b":[{"c":"]"}],"d":NaN}\n';
    const split = splitTopLevel(text);
    expect(split.members.map((m) => [m.key, m.valueText])).toEqual([
      ["a", '"}],\\"{"'],
      ["b", '[{"c":"]"}]'],
      ["d", "NaN"],
    ]);
    expect(joinTopLevel(split)).toBe(text);
  });

  it("splitTopLevel › round-trips any object in any layout (property)", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.boolean(), (obj, compact) => {
        const text = compact ? JSON.stringify(obj) : stringifyPythonJson(obj);
        expect(joinTopLevel(splitTopLevel(text))).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it("splitTopLevel › refuses a top level that is not an object", () => {
    expect(() => splitTopLevel("[1, 2]")).toThrow(/not an object/);
  });
});

describe("editTopLevel", () => {
  const text = '{\n  "a": 1.0,\n  "b": "x",\n  "c": [\n    1.0\n  ]\n}';

  it("editTopLevel › replaces in place and keeps every other byte (1.0 stays 1.0)", () => {
    const out = joinTopLevel(editTopLevel(splitTopLevel(text), { set: [["b", '"y"']] }));
    expect(out).toBe('{\n  "a": 1.0,\n  "b": "y",\n  "c": [\n    1.0\n  ]\n}');
  });

  it("editTopLevel › appends new keys with the file's separators", () => {
    const out = joinTopLevel(editTopLevel(splitTopLevel(text), { set: [["z", "true"]] }));
    expect(out).toBe('{\n  "a": 1.0,\n  "b": "x",\n  "c": [\n    1.0\n  ],\n  "z": true\n}');
  });

  it("editTopLevel › removes the first, a middle or the last key cleanly", () => {
    const split = splitTopLevel(text);
    expect(joinTopLevel(editTopLevel(split, { remove: ["a"] }))).toBe('{\n  "b": "x",\n  "c": [\n    1.0\n  ]\n}');
    expect(joinTopLevel(editTopLevel(split, { remove: ["b"] }))).toBe('{\n  "a": 1.0,\n  "c": [\n    1.0\n  ]\n}');
    expect(joinTopLevel(editTopLevel(split, { remove: ["c"] }))).toBe('{\n  "a": 1.0,\n  "b": "x"\n}');
    expect(joinTopLevel(editTopLevel(split, { remove: ["a", "b"], set: [["n", "null"]] }))).toBe(
      '{\n  "c": [\n    1.0\n  ],\n  "n": null\n}',
    );
  });

  it("editTopLevel › an empty object gets Python's layout", () => {
    expect(
      joinTopLevel(
        editTopLevel(splitTopLevel("{}"), {
          set: [
            ["a", "1"],
            ["b", "2"],
          ],
        }),
      ),
    ).toBe('{\n  "a": 1,\n  "b": 2\n}');
  });

  it("editTopLevel › edits parse to the expected object (property)", () => {
    // Integer-like keys are left out: JavaScript objects (not the splicer) reorder them.
    // `__proto__` is left out too: assigning it on the expected object sets the prototype.
    const key = fc.string().filter((k) => !/^\d+$/.test(k) && k !== "__proto__");
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.jsonValue(), { minKeys: 0, maxKeys: 6 }),
        fc.dictionary(key, fc.jsonValue(), { maxKeys: 3 }),
        fc.array(key, { maxLength: 3 }),
        (obj, set, remove) => {
          const removeSet = new Set(remove.filter((k) => !Object.hasOwn(set, k)));
          const edited = editTopLevel(splitTopLevel(stringifyPythonJson(obj)), {
            set: Object.entries(set).map(([k, v]) => [k, stringifyPythonJson(v, 2, 1)] as const),
            remove: [...removeSet],
          });
          const expected: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(obj)) if (!removeSet.has(k)) expected[k] = Object.hasOwn(set, k) ? set[k] : v;
          for (const [k, v] of Object.entries(set)) if (!Object.hasOwn(expected, k)) expected[k] = v;
          const out = joinTopLevel(edited);
          expect(parsePythonJson(out)).toStrictEqual(expected);
          expect(out).toBe(stringifyPythonJson(expected));
        },
      ),
      { numRuns: 300 },
    );
  });
});
