/**
 * Every setting the configuration schema knows, by dotted key (`retry.maxAttempts`; a nested
 * object is expanded, a list is one setting), with the type of its value. Read from the zod
 * schema itself, so a new setting needs no second list: text from the environment and from
 * flags is read by it, `config` shows each key, and a misspelt key is matched against it.
 */
import type { z } from "zod";

export type SettingKind = "number" | "boolean" | "text" | "list";

type Def = { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType> };

const defOf = (t: z.ZodType): Def => (t as unknown as { _zod: { def: Def } })._zod.def;

/** The type under `.optional()`, `.default()`, `.prefault()`. */
function unwrapped(t: z.ZodType): Def {
  let d = defOf(t);
  while (d.innerType !== undefined) d = defOf(d.innerType);
  return d;
}

function kindOf(d: Def): SettingKind {
  if (d.type === "number") return "number";
  if (d.type === "boolean") return "boolean";
  if (d.type === "array") return "list";
  return "text";
}

export function settingKinds(schema: z.ZodObject): ReadonlyMap<string, SettingKind> {
  const out = new Map<string, SettingKind>();
  const walk = (shape: Record<string, z.ZodType>, prefix: string) => {
    for (const [key, t] of Object.entries(shape)) {
      const d = unwrapped(t);
      if (d.type === "object" && d.shape !== undefined) walk(d.shape, `${prefix}${key}.`);
      else out.set(`${prefix}${key}`, kindOf(d));
    }
  };
  walk(schema.shape as Record<string, z.ZodType>, "");
  return out;
}
