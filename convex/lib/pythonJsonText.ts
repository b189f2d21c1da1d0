/**
 * JSON text as Python's `json` module writes it (`json.dump(value, indent=2)` with its
 * defaults): `ensure_ascii` strings, `NaN`/`Infinity` literals, floats in `repr` form. Shared by
 * the daemon's job.json writer and the Convex functions that serve stored JSON text, so both
 * write alike. Reading is `src/local/pythonJson.ts`'s.
 */

/** A string as `json.dumps(s)` writes it (`ensure_ascii=True`): lowercase `\uXXXX` escapes. */
export function pythonJsonString(s: string): string {
  let out = '"';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(run, i);
    run = i + 1;
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    // UTF-16 code units, so characters beyond the BMP come out as surrogate pairs, as in Python.
    else out += `\\u${c.toString(16).padStart(4, "0")}`;
  }
  return `${out}${s.slice(run)}"`;
}

/**
 * A number as Python writes it. Non-integral values follow `float.__repr__` (shortest digits,
 * exponent form below 1e-4 with a two-digit exponent); integral values are written as ints.
 */
export function pythonJsonNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  if (Object.is(n, -0)) return "-0.0";
  if (Number.isInteger(n) || Math.abs(n) >= 1e-4) return JSON.stringify(n);
  // Both languages print the shortest round-tripping digits; only the layout differs.
  const [mantissa, exponent = "0"] = n.toExponential().split("e");
  const sign = exponent.startsWith("-") ? "-" : "+";
  return `${mantissa}e${sign}${exponent.replace(/^[-+]/, "").padStart(2, "0")}`;
}

/** Serialises like `json.dump(value, indent=indent)`: 2-space indent, `", "`-free lines. */
export function stringifyPythonJson(value: unknown, indent = 2, depth = 0): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number") return pythonJsonNumber(value);
  if (typeof value === "string") return pythonJsonString(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  const pad = " ".repeat(indent * (depth + 1));
  const close = " ".repeat(indent * depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((v) => pad + stringifyPythonJson(v, indent, depth + 1));
    return `[\n${items.join(",\n")}\n${close}]`;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    const items = entries.map(([k, v]) => `${pad}${pythonJsonString(k)}: ${stringifyPythonJson(v, indent, depth + 1)}`);
    return `{\n${items.join(",\n")}\n${close}}`;
  }
  throw new TypeError(`cannot serialise a value of type ${typeof value} as JSON`);
}
