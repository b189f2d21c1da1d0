/**
 * Splits the text of a JSON object into its top-level members without re-serialising any
 * value, so that a rewrite of job.json can replace a few fields and keep every other byte:
 * JavaScript cannot re-create Python's `1.0` (it reads back as `1`), but it can copy text.
 *
 * Also how the Convex functions read and edit a job's component, which is stored as its JSON
 * text (filenames are its keys, and Convex field names cannot hold them).
 *
 * Only for text that `parsePythonJson` has already accepted; the scanner trusts that the
 * grammar is valid and throws if the text is not a single top-level object.
 *
 * `join(split(text)) === text` for every accepted object.
 */
import { pythonJsonString } from "./pythonJsonText.js";

export type TopLevelMember = {
  key: string;
  /** Text between the previous member's value and this key (`",\n  "`); "" for the first. */
  sep: string;
  keyText: string;
  /** Text between the key and its value (`": "`). */
  colon: string;
  valueText: string;
};

export type TopLevelObject = {
  /** Up to the first key: leading whitespace, `{` and the whitespace after it. */
  open: string;
  members: TopLevelMember[];
  /** From the end of the last value: whitespace, `}` and anything trailing. */
  close: string;
};

const isWs = (c: string | undefined): boolean => c === " " || c === "\n" || c === "\r" || c === "\t";

function skipString(s: string, i: number): number {
  // `i` is at the opening quote; returns the index after the closing one.
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === "\\") j++;
    else if (c === '"') return j + 1;
  }
  throw new Error("unterminated string in already-parsed JSON");
}

function skipValue(s: string, i: number): number {
  const c = s[i];
  if (c === '"') return skipString(s, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    for (let j = i; j < s.length; ) {
      const d = s[j];
      if (d === '"') {
        j = skipString(s, j);
        continue;
      }
      if (d === "{" || d === "[") depth++;
      else if (d === "}" || d === "]") {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    throw new Error("unbalanced brackets in already-parsed JSON");
  }
  let j = i;
  while (j < s.length && !isWs(s[j]) && s[j] !== "," && s[j] !== "}" && s[j] !== "]") j++;
  if (j === i) throw new Error(`expected a value at char ${i}`);
  return j;
}

export function splitTopLevel(text: string): TopLevelObject {
  let i = 0;
  while (isWs(text[i])) i++;
  if (text[i] !== "{") throw new Error("the top-level value is not an object");
  i++;
  while (isWs(text[i])) i++;
  const members: TopLevelMember[] = [];
  if (text[i] === "}") return { open: text.slice(0, i), members, close: text.slice(i) };
  const open = text.slice(0, i);
  let sepStart = i;
  for (;;) {
    const keyStart = i;
    if (text[i] !== '"') throw new Error(`expected a key at char ${i}`);
    i = skipString(text, i);
    const keyText = text.slice(keyStart, i);
    const colonStart = i;
    while (isWs(text[i])) i++;
    if (text[i] !== ":") throw new Error(`expected ':' at char ${i}`);
    i++;
    while (isWs(text[i])) i++;
    const valueStart = i;
    i = skipValue(text, i);
    members.push({
      key: JSON.parse(keyText) as string,
      sep: text.slice(sepStart, keyStart),
      keyText,
      colon: text.slice(colonStart, valueStart),
      valueText: text.slice(valueStart, i),
    });
    const valueEnd = i;
    while (isWs(text[i])) i++;
    if (text[i] === ",") {
      sepStart = valueEnd;
      i++;
      while (isWs(text[i])) i++;
      continue;
    }
    if (text[i] !== "}") throw new Error(`expected ',' or '}' at char ${i}`);
    return { open, members, close: text.slice(valueEnd) };
  }
}

/** The last member named `key` (the one a JSON parser keeps), if any. */
export function lastMember(obj: TopLevelObject, key: string): TopLevelMember | undefined {
  for (let n = obj.members.length - 1; n >= 0; n--) if (obj.members[n]!.key === key) return obj.members[n];
  return undefined;
}

export function joinTopLevel(obj: TopLevelObject): string {
  let out = obj.open;
  obj.members.forEach((m, n) => {
    out += `${n === 0 ? "" : m.sep}${m.keyText}${m.colon}${m.valueText}`;
  });
  return out + obj.close;
}

/** The indent width the file uses for top-level keys (2 for `json.dump(indent=2)`), or null if compact. */
export function topLevelIndent(obj: TopLevelObject): number | null {
  const nl = obj.open.lastIndexOf("\n");
  if (nl < 0 || obj.members.length === 0) return null;
  return obj.open.length - nl - 1;
}

export type TopLevelEdit = {
  /** New value text per key: replaces every occurrence in place, or appends the key at the end. */
  set?: ReadonlyArray<readonly [key: string, valueText: string]>;
  /** Keys to drop (every occurrence). */
  remove?: ReadonlyArray<string>;
};

/**
 * Applies replacements, removals and appends; untouched members keep their text, separators
 * and order. New keys use the separators the file already uses (Python's `",\n  "`, `": "`).
 */
export function editTopLevel(obj: TopLevelObject, edit: TopLevelEdit): TopLevelObject {
  const set = new Map(edit.set ?? []);
  const remove = new Set(edit.remove ?? []);
  const original = obj.members;
  const kept = original.filter((m) => !remove.has(m.key)).map((m) => (set.has(m.key) ? { ...m, valueText: set.get(m.key) as string } : m));
  const present = new Set(original.map((m) => m.key));
  // Separators for appended keys: copied from the file, or Python's indent=2 layout.
  const later = original.find((_m, n) => n > 0);
  const indent = original.length === 0 ? 2 : topLevelIndent(obj);
  const sep = later?.sep ?? (indent === null ? ", " : `,\n${" ".repeat(indent)}`);
  const colon = original[0]?.colon ?? ": ";
  for (const [key, valueText] of set) {
    if (present.has(key) || remove.has(key)) continue;
    kept.push({ key, sep, keyText: pythonJsonString(key), colon, valueText });
  }
  // A member that moved into first place keeps no separator (`open` holds the whitespace);
  // one that was first and now follows another needs one.
  const members = kept.map((m, n) => (n > 0 && m.sep === "" ? { ...m, sep } : m));
  if (original.length === 0 && members.length > 0) {
    return { open: "{\n  ", members, close: "\n}" };
  }
  // Every member removed: Python writes an empty object as `{}`, whatever the indent.
  if (members.length === 0) return { open: "{", members, close: "}" };
  return { open: obj.open, members, close: obj.close };
}
