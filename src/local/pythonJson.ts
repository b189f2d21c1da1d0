/**
 * JSON as Python's `json` module writes it: standard JSON plus the literals `NaN`, `Infinity`
 * and `-Infinity`, which `JSON.parse` rejects. Parsing takes the native fast path and falls
 * back to a small strict parser of exactly Python's dialect only when the native parser
 * refuses, so a file is accepted here if and only if Python's `json.loads` accepts it (no
 * comments, trailing commas or single quotes sneak in). Errors read like Python's:
 * `Expecting ',' delimiter: line 3 column 5 (char 20)`.
 *
 * Why not a library for the fallback: the ones that read `NaN` and `Infinity` (json5 and its
 * kind) read a superset (comments, trailing commas, single quotes, hex, `+1`, `.5`), so a file
 * Python could never have written would sync as if it were fine. `tests/reliability/
 * pythonJsonProperties.test.ts` holds this parser to Python's behaviour.
 *
 * Writing (convex/lib/pythonJsonText.ts, re-exported here) reproduces `json.dump(value, indent=2)` with Python's defaults: `ensure_ascii`
 * (every non-ASCII character and DEL as `\uXXXX`), `": "` and `","` separators, floats in
 * Python's `repr` form (`1e-05`, `-0.0`). What JavaScript cannot know is whether an integral
 * number was a Python `float`: `1.0` reads back as `1` and is written as `1`. Callers that must
 * keep untouched values byte-for-byte splice text instead (see `topLevelMembers.ts`).
 */

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
  } catch {
    // Either Python's non-finite literals or a real syntax error: the strict parser tells which,
    // and names the position the way Python's own error would.
    return new StrictParser(text).parseDocument();
  }
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
/** Deeper than this, Python raises RecursionError; we refuse rather than exhaust the stack. */
const MAX_DEPTH = 900;

/** Recursive descent over Python's grammar (`json/scanner.py`); only used when JSON.parse fails. */
class StrictParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parseDocument(): unknown {
    this.ws();
    const v = this.value(0);
    this.ws();
    if (this.i < this.s.length) this.fail("Extra data");
    return v;
  }

  private fail(what: string, at = this.i): never {
    const before = this.s.slice(0, at);
    const line = before.split("\n").length;
    const col = at - before.lastIndexOf("\n");
    throw new PythonJsonError(`${what}: line ${line} column ${col} (char ${at})`);
  }

  private ws(): void {
    while (this.i < this.s.length && WS.has(this.s.charCodeAt(this.i))) this.i++;
  }

  private take(word: string): boolean {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return true;
    }
    return false;
  }

  private value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail("Nested too deeply");
    const c = this.s[this.i];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') return this.string();
    if (this.take("null")) return null;
    if (this.take("true")) return true;
    if (this.take("false")) return false;
    if (this.take("NaN")) return NaN;
    if (this.take("Infinity")) return Infinity;
    if (this.take("-Infinity")) return -Infinity;
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (m) {
      this.i += m[0].length;
      return Number(m[0]);
    }
    return this.fail("Expecting value");
  }

  private object(depth: number): Record<string, unknown> {
    this.i++;
    // A plain object, as JSON.parse builds: `__proto__` becomes an own key, not a prototype.
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return out;
    }
    for (;;) {
      if (this.s[this.i] !== '"') this.fail("Expecting property name enclosed in double quotes");
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ":") this.fail("Expecting ':' delimiter");
      this.i++;
      this.ws();
      Object.defineProperty(out, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.s[this.i++];
      if (c === "}") return out;
      if (c !== ",") this.fail("Expecting ',' delimiter", this.i - 1);
      this.ws();
    }
  }

  private array(depth: number): unknown[] {
    this.i++;
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === "]") return out;
      if (c !== ",") this.fail("Expecting ',' delimiter", this.i - 1);
      this.ws();
    }
  }

  private string(): string {
    const start = this.i++;
    let out = "";
    for (;;) {
      if (this.i >= this.s.length) this.fail("Unterminated string starting at", start);
      const code = this.s.charCodeAt(this.i);
      if (code === 0x22) {
        this.i++;
        return out;
      }
      if (code < 0x20) this.fail("Invalid control character at");
      if (code !== 0x5c) {
        out += this.s[this.i++];
        continue;
      }
      const e = this.s[this.i + 1];
      if (e === "u") {
        const hex = this.s.slice(this.i + 2, this.i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("Invalid \\uXXXX escape", this.i + 1);
        out += String.fromCharCode(parseInt(hex, 16));
        this.i += 6;
      } else if (e !== undefined && Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
        this.i += 2;
      } else {
        this.fail("Invalid \\escape", this.i);
      }
    }
  }
}

export { pythonJsonNumber, pythonJsonString, stringifyPythonJson } from "../../convex/lib/pythonJsonText.js";
