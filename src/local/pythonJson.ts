/**
 * JSON as Python's `json` module writes it: standard JSON plus the literals `NaN`, `Infinity`
 * and `-Infinity`, which `JSON.parse` rejects. Parsing takes the native fast path and falls
 * back to JSON5 (a superset that reads those literals) only when the native parser refuses.
 * Writing produces text Python's `json.load` reads back to the same values.
 */
import JSON5 from "json5";

export class PythonJsonError extends Error {
  override readonly name = "PythonJsonError";
}

export function parsePythonJson(text: string): unknown {
  if (text.charCodeAt(0) === 0xfeff) {
    throw new PythonJsonError("starts with a UTF-8 byte-order mark, which Python's json module never writes");
  }
  if (text.trim() === "") throw new PythonJsonError("is empty");
  try {
    return JSON.parse(text);
  } catch (nativeError) {
    try {
      return JSON5.parse(text);
    } catch {
      // Report the native parser's message: it names the position in standard-JSON terms.
      throw new PythonJsonError((nativeError as Error).message);
    }
  }
}

function number(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  if (Object.is(n, -0)) return "-0.0";
  return JSON.stringify(n);
}

/** Serialises like `json.dump(value, indent=indent)`: 2-space indent, `", "`-free lines. */
export function stringifyPythonJson(value: unknown, indent = 2, depth = 0): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number") return number(value);
  if (typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
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
    const items = entries.map(([k, v]) => `${pad}${JSON.stringify(k)}: ${stringifyPythonJson(v, indent, depth + 1)}`);
    return `{\n${items.join(",\n")}\n${close}}`;
  }
  throw new PythonJsonError(`cannot serialise a value of type ${typeof value}`);
}
