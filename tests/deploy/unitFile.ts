/**
 * Reads a systemd unit file the way systemd does for the parts the tests look at: `[Section]`
 * headers, `Key=value` lines (a key may repeat; an empty value resets the list, which the tests
 * keep as an empty string), `#` and `;` comments, backslash line continuations.
 */
import { readFileSync } from "node:fs";

export type UnitFile = Record<string, Record<string, string[]>>;

export function parseUnitFile(text: string): UnitFile {
  const unit: UnitFile = {};
  let section: Record<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = unit[header[1]!] ??= {};
      continue;
    }
    const eq = line.indexOf("=");
    if (section === undefined || eq < 0) throw new Error(`not a unit file line: ${raw}`);
    const key = line.slice(0, eq).trim();
    section[key] ??= [];
    section[key].push(line.slice(eq + 1).trim());
  }
  return unit;
}

export function readUnitFile(file: string): UnitFile {
  return parseUnitFile(readFileSync(file, "utf8"));
}

/** The last value set for a key (what systemd uses for a single-valued setting), or undefined. */
export function last(unit: UnitFile, section: string, key: string): string | undefined {
  const values = unit[section]?.[key];
  return values === undefined ? undefined : values[values.length - 1];
}
