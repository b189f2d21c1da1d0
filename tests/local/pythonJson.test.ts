import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PythonJsonError, parsePythonJson, pythonJsonNumber, pythonJsonString, stringifyPythonJson } from "../../src/local/pythonJson.js";

const SAMPLES = path.resolve(import.meta.dirname, "../fixtures/samples");
const sampleFiles = readdirSync(SAMPLES).filter((f) => f.endsWith(".json"));

function reason(text: string): string {
  try {
    parsePythonJson(text);
  } catch (e) {
    expect(e).toBeInstanceOf(PythonJsonError);
    return (e as Error).message;
  }
  throw new Error("expected a parse error");
}

describe("parsePythonJson", () => {
  it("parsePythonJson › reads NaN, Infinity and -Infinity as the IEEE values", () => {
    const v = parsePythonJson('{"a": NaN, "b": Infinity, "c": -Infinity, "d": [NaN, -0.0]}') as Record<string, unknown>;
    expect(Number.isNaN(v.a)).toBe(true);
    expect(v.b).toBe(Infinity);
    expect(v.c).toBe(-Infinity);
    const d = v.d as number[];
    expect(Number.isNaN(d[0])).toBe(true);
    expect(Object.is(d[1], -0)).toBe(true);
  });

  it("parsePythonJson › keeps -0.0 as negative zero on the native path too", () => {
    expect(Object.is(parsePythonJson("-0.0"), -0)).toBe(true);
  });

  it("parsePythonJson › refuses a byte-order mark", () => {
    expect(reason('\ufeff{"a": 1}')).toMatch(/byte-order mark/);
  });

  it("parsePythonJson › refuses empty and blank text", () => {
    expect(reason("")).toBe("is empty");
    expect(reason(" \n\t")).toBe("is empty");
  });

  // Messages as Python 3's json.loads words them for the same input.
  it.each([
    ['{"a": 1,}', "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)"],
    ['{"a": NaN', "Expecting ',' delimiter: line 1 column 10 (char 9)"],
    ['{"a" 1}', "Expecting ':' delimiter: line 1 column 6 (char 5)"],
    ["[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)"],
    ['{"a": NaN}x', "Extra data: line 1 column 11 (char 10)"],
    ['{\n  "a": nan\n}', "Expecting value: line 2 column 8 (char 9)"],
    ['{"a": "\\q"}', "Invalid \\escape: line 1 column 8 (char 7)"],
    ['"abc', "Unterminated string starting at: line 1 column 1 (char 0)"],
    ['{"a":\n "x\ty"}', "Invalid control character at: line 2 column 4 (char 9)"],
    ["{'a': 1}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
    ['{"a": 1 // c\n}', "Expecting ',' delimiter: line 1 column 9 (char 8)"],
  ])("parsePythonJson › refuses %j like Python: %s", (text, message) => {
    expect(reason(text)).toBe(message);
  });

  it("parsePythonJson › a truncated sample is refused with a position", () => {
    const text = readFileSync(path.join(SAMPLES, "04-succeeded.job.json"), "utf8");
    expect(reason(text.slice(0, Math.floor(text.length / 2)))).toMatch(/line \d+ column \d+ \(char \d+\)$/);
  });

  it("parsePythonJson › accepts nothing beyond Python's dialect (no JSON5 extras)", () => {
    for (const t of ['{"a": +1}', '{"a": .5}', '{"a": 0x10}', "{a: 1}", '{"a": +Infinity}', '{"a": -NaN}', "[1,]"]) {
      expect(() => parsePythonJson(t), t).toThrow(PythonJsonError);
    }
  });

  it("parsePythonJson › keeps a __proto__ key as data on the fallback path", () => {
    const v = parsePythonJson('{"__proto__": {"x": 1}, "n": NaN}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.hasOwn(v, "__proto__")).toBe(true);
  });

  it("parsePythonJson › decodes escapes on the fallback path like JSON.parse", () => {
    const text = '["\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/", NaN]';
    expect((parsePythonJson(text) as unknown[])[0]).toBe(JSON.parse(text.replace("NaN", "0"))[0]);
  });
});

describe("stringifyPythonJson", () => {
  it.each(sampleFiles)("stringifyPythonJson › round-trips sample %s byte for byte", (file) => {
    const text = readFileSync(path.join(SAMPLES, file), "utf8");
    expect(stringifyPythonJson(parsePythonJson(text))).toBe(text);
  });

  it("stringifyPythonJson › writes NaN, ±Infinity and -0 as Python does, and reads them back", () => {
    const value = { n: NaN, p: Infinity, m: -Infinity, z: -0 };
    const text = stringifyPythonJson(value);
    expect(text).toBe('{\n  "n": NaN,\n  "p": Infinity,\n  "m": -Infinity,\n  "z": -0.0\n}');
    const back = parsePythonJson(text) as Record<string, number>;
    expect(Number.isNaN(back.n)).toBe(true);
    expect(back.p).toBe(Infinity);
    expect(back.m).toBe(-Infinity);
    expect(Object.is(back.z, -0)).toBe(true);
  });

  it("stringifyPythonJson › nests like json.dumps(indent=2) with ensure_ascii", () => {
    // json.dumps({'a':[1,{'b':[]},{}],'c':'é'}, indent=2)
    expect(stringifyPythonJson({ a: [1, { b: [] }, {}], c: "é" })).toBe(
      '{\n  "a": [\n    1,\n    {\n      "b": []\n    },\n    {}\n  ],\n  "c": "\\u00e9"\n}',
    );
  });

  it("stringifyPythonJson › values survive a round trip (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const back = parsePythonJson(stringifyPythonJson(v));
        expect(back).toStrictEqual(v);
      }),
      { numRuns: 300 },
    );
  });
});

describe("pythonJsonString", () => {
  it("pythonJsonString › escapes like json.dumps (ensure_ascii=True)", () => {
    // json.dumps('x \u2028 \U0001F600 " \\ \n\t\r\b\f \x7f \x01 é ü')
    expect(pythonJsonString('x \u2028 \u{1F600} " \\ \n\t\r\b\f \x7f \x01 é ü')).toBe(
      '"x \\u2028 \\ud83d\\ude00 \\" \\\\ \\n\\t\\r\\b\\f \\u007f \\u0001 \\u00e9 \\u00fc"',
    );
  });

  it("pythonJsonString › reads back to the same string (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(parsePythonJson(pythonJsonString(s))).toBe(s);
      }),
    );
  });
});

describe("pythonJsonNumber", () => {
  // [value, json.dumps(value)] from Python 3
  it.each([
    [0.5, "0.5"],
    [1e-5, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [0.0001, "0.0001"],
    [-2.5e-10, "-2.5e-10"],
    [123.456, "123.456"],
    [1e-300, "1e-300"],
    [5e-324, "5e-324"],
    [-0, "-0.0"],
    [NaN, "NaN"],
    [Infinity, "Infinity"],
    [-Infinity, "-Infinity"],
    [0.1, "0.1"],
    [1 / 3, "0.3333333333333333"],
    [12345678.9, "12345678.9"],
    [160, "160"],
  ])("pythonJsonNumber › %s is written as Python writes it (%s)", (n, text) => {
    expect(pythonJsonNumber(n)).toBe(text);
  });
});
