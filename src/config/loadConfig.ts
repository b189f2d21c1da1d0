/**
 * Resolves the configuration once: defaults < `celstate-sync.config.json` (or `--config`) <
 * `.env` < `.env.local` (as the Convex CLI writes them) < the environment < `--env-file` (named
 * on purpose, so it wins over whatever the shell carries) < flags. Validates everything, nested
 * keys included, with the zod schema and returns a frozen object plus where each value came
 * from, by dotted key. Text from the environment and from flags goes through the same schema as
 * the file; an error is one line naming the dotted key, where it came from and what was given,
 * never the value of a secret setting and never a whole object.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseDotenv } from "dotenv";
import type { z } from "zod";
import { SyncError } from "../errors/SyncError.js";
import { compileAssetRules } from "../local/compileAssetRules.js";
import { type Config, SECRET_SETTINGS, configSchema } from "./configSchema.js";
import { closestName } from "./closestName.js";
import { settingKinds } from "./settingKinds.js";

export const CONFIG_FILE = "celstate-sync.config.json";

export type ConfigSource = "default" | "file" | "env" | ".env.local" | ".env" | "env-file" | "flag";

/** Where one value came from, and the text it was given as (environment and flags). */
type Origin = { source: ConfigSource; variable?: string; file?: string; text?: string };

export type LoadedConfig = {
  config: Config;
  /** Where each value that is not a default came from, by dotted key (`retry.maxAttempts`). */
  sources: Readonly<Record<string, ConfigSource>>;
  configFile: string | null;
  envFile: string | null;
  /**
   * A variable that Convex's project templates write for the deployment URL (`VITE_CONVEX_URL`,
   * `NEXT_PUBLIC_CONVEX_URL`), seen where no `CONVEX_URL` was set: the missing-URL message names it.
   */
  urlLookalike: { variable: string; where: string } | null;
};

export type LoadOptions = {
  cwd?: string;
  /** `--config F`; when given, the file must exist. */
  configPath?: string;
  /** `--env-file F`; when given, the file must exist. */
  envFile?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Values from command-line flags by dotted key (`watch.drainMs`), as typed (text) or already
   * typed (booleans, lists); undefined = not given. Text is read as the setting's type.
   */
  flags?: Record<string, unknown>;
};

/** Every setting by dotted key, with its type (from the schema). */
export const SETTINGS = settingKinds(configSchema);

/** Environment variable → dotted config key. */
export const ENV_KEYS: Readonly<Record<string, string>> = {
  CONVEX_URL: "convexUrl",
  CELSTATE_SYNC_TOKEN: "token",
  CELSTATE_SYNC_JOBS_DIR: "jobsDir",
  CELSTATE_SYNC_CONCURRENCY: "concurrency",
  CELSTATE_SYNC_LOG_LEVEL: "logLevel",
  CELSTATE_SYNC_HEALTH_PORT: "healthPort",
};

/** What Convex's project templates call the deployment URL (Vite, Next.js). */
const URL_LOOKALIKES = ["VITE_CONVEX_URL", "NEXT_PUBLIC_CONVEX_URL"];

/** `watch.drainMs` → `--drain-ms`: every flag is named after the last part of its key. */
export function flagName(key: string): string {
  return `--${(key.split(".").pop() ?? key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Text as the setting's type; text that is not one stays text, so the schema refuses it as typed. */
function fromText(key: string, text: string): unknown {
  const kind = SETTINGS.get(key);
  if (kind === "number") return /^\s*-?\d+(\.\d+)?\s*$/.test(text) ? Number(text) : text;
  if (kind === "boolean") return text === "true" || text === "1" ? true : text === "false" || text === "0" ? false : text;
  return text;
}

function readJsonFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new SyncError("CONFIG_INVALID", `cannot read config file ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("expected a JSON object");
    return value as Record<string, unknown>;
  } catch (e) {
    throw new SyncError("CONFIG_INVALID", `config file ${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

function readEnvFile(file: string, required: boolean): Record<string, string> {
  if (!required && !existsSync(file)) return {};
  try {
    return parseDotenv(readFileSync(file));
  } catch (e) {
    const reason =
      (e as NodeJS.ErrnoException).code === "ENOENT"
        ? "does not exist"
        : `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    throw new SyncError("CONFIG_INVALID", `environment file ${file} (from --env-file) ${reason}`, { cause: e });
  }
}

/** Sets `value` at the dotted `key` of `target`, creating the objects on the way. */
function setAt(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let o = target;
  for (const p of parts.slice(0, -1)) {
    const next = o[p];
    if (next === null || typeof next !== "object" || Array.isArray(next)) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts.at(-1)!] = value;
}

function valueAt(o: unknown, parts: readonly PropertyKey[]): unknown {
  return parts.reduce<unknown>((v, p) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined), o);
}

/** Dotted keys of every leaf of a file's object (an array is one leaf: `assets`). */
function leafKeys(o: Record<string, unknown>, prefix = ""): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? leafKeys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

function describeOrigin(o: Origin | undefined, key: string): string {
  if (o === undefined) return "";
  switch (o.source) {
    case "default":
      return "";
    case "file":
      return `in ${o.file}`;
    case "flag":
      return `from ${flagName(key)}`;
    case "env":
      return `from the environment (${o.variable})`;
    default:
      return `from ${o.file} (${o.variable})`;
  }
}

/** A URL without what may hold a secret (credentials, query, fragment): `…` marks the cut. */
function withoutSecrets(text: string): string {
  try {
    const url = new URL(text);
    const shown = `${url.protocol}//${url.host}${text.includes(`${url.host}/`) ? url.pathname : ""}`;
    return url.username || url.password || url.search || url.hash ? `${shown}…` : shown;
  } catch {
    return /[?#@]/.test(text) ? "…" : text;
  }
}

/** What was given, as it may be shown: never a secret, never a whole object. */
function describeGiven(key: string, value: unknown, origin: Origin | undefined): string {
  if (value === undefined) return "";
  if (SECRET_SETTINGS.has(key.split(".")[0]!)) return typeof value === "string" ? `, got ${value.length} characters (not shown)` : "";
  if (key === "convexUrl" && typeof value === "string") return `, got \`${withoutSecrets(value)}\``;
  if (origin?.text !== undefined) return `, got \`${origin.text}\``;
  if (value !== null && typeof value === "object") return `, got ${Array.isArray(value) ? "a list" : "an object"}`;
  const json = JSON.stringify(value);
  return `, got ${json.length > 80 ? `${json.slice(0, 77)}...` : json}`;
}

function describeIssue(issue: z.core.$ZodIssue, merged: Record<string, unknown>, origins: Map<string, Origin>): string {
  const parent = issue.path.map(String);
  /** The origin of a key: its own, the nearest object's above it, or (an object given where a value belongs) a key inside it. */
  const originOf = (parts: string[]): Origin | undefined => {
    for (let n = parts.length; n > 0; n--) {
      const o = origins.get(parts.slice(0, n).join("."));
      if (o !== undefined) return o;
    }
    const prefix = `${parts.join(".")}.`;
    return [...origins].find(([k]) => k.startsWith(prefix))?.[1];
  };
  if (issue.code === "unrecognized_keys") {
    const prefix = parent.length === 0 ? "" : `${parent.join(".")}.`;
    const known = [...new Set([...SETTINGS.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length).split(".")[0]!))];
    const [first, ...rest] = issue.keys;
    const key = [...parent, first].join(".");
    const guess = closestName(first!, known);
    const where = describeOrigin(originOf([...parent, first!]), key);
    return `\`${key}\`${where ? ` ${where}` : ""} is not a setting${guess === null ? "" : `; did you mean \`${[...parent, guess].join(".")}\`?`}${rest.length > 0 ? ` (nor ${rest.map((k) => `\`${[...parent, k].join(".")}\``).join(", ")})` : ""}`;
  }
  const key = parent.join(".") || "(config)";
  const origin = originOf(parent);
  const where = describeOrigin(origin, key);
  return `\`${key}\`${where ? ` ${where}` : ""} is invalid: ${issue.message}${describeGiven(key, valueAt(merged, issue.path), origins.get(key))}`;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const origins = new Map<string, Origin>();
  const merged: Record<string, unknown> = {};

  let configFile: string | null = null;
  if (opts.configPath !== undefined) {
    configFile = path.resolve(cwd, opts.configPath);
    if (!existsSync(configFile)) {
      throw new SyncError("CONFIG_INVALID", `config file ${configFile} (from --config) does not exist`);
    }
  } else if (existsSync(path.join(cwd, CONFIG_FILE))) {
    configFile = path.join(cwd, CONFIG_FILE);
  }
  if (configFile !== null) {
    const values = readJsonFile(configFile);
    Object.assign(merged, values);
    for (const key of leafKeys(values)) origins.set(key, { source: "file", file: configFile });
  }

  const envFile = opts.envFile === undefined ? null : path.resolve(cwd, opts.envFile);
  // Lowest first; each layer's variables replace the ones below.
  const layers: Array<{ source: ConfigSource; file?: string; vars: Record<string, string | undefined> }> = [
    { source: ".env", file: path.join(cwd, ".env"), vars: readEnvFile(path.join(cwd, ".env"), false) },
    { source: ".env.local", file: path.join(cwd, ".env.local"), vars: readEnvFile(path.join(cwd, ".env.local"), false) },
    { source: "env", vars: env },
    ...(envFile === null ? [] : [{ source: "env-file" as const, file: envFile, vars: readEnvFile(envFile, true) }]),
  ];
  let urlLookalike: LoadedConfig["urlLookalike"] = null;
  for (const { source, file, vars } of layers) {
    for (const [variable, key] of Object.entries(ENV_KEYS)) {
      const text = vars[variable];
      if (text === undefined || text === "") continue;
      setAt(merged, key, fromText(key, text));
      origins.set(key, { source, variable, text, ...(file === undefined ? {} : { file }) });
    }
    for (const variable of URL_LOOKALIKES) {
      if (vars[variable] !== undefined && vars[variable] !== "") urlLookalike = { variable, where: file ?? "the environment" };
    }
  }

  for (const [key, value] of Object.entries(opts.flags ?? {})) {
    if (value === undefined) continue;
    setAt(merged, key, typeof value === "string" ? fromText(key, value) : value);
    origins.set(key, { source: "flag", ...(typeof value === "string" ? { text: value } : {}) });
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const [first, ...others] = parsed.error.issues;
    const more = others.length > 0 ? ` (and ${others.length} more problem${others.length === 1 ? "" : "s"})` : "";
    throw new SyncError("CONFIG_INVALID", `${describeIssue(first!, merged, origins)}${more}`);
  }
  try {
    compileAssetRules(parsed.data.assets);
  } catch (e) {
    const where = describeOrigin(origins.get("assets"), "assets");
    throw new SyncError("CONFIG_INVALID", `\`assets\`${where ? ` ${where}` : ""} is invalid: ${(e as Error).message}`, { cause: e });
  }
  const config = deepFreeze({ ...parsed.data, jobsDir: path.resolve(cwd, parsed.data.jobsDir) });
  const sources = Object.fromEntries([...origins].map(([key, o]) => [key, o.source]));
  return {
    config,
    sources: Object.freeze(sources),
    configFile,
    envFile,
    urlLookalike: parsed.data.convexUrl === undefined ? urlLookalike : null,
  };
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === "object") {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The configuration as it may be shown: every secret setting masked, by key. */
export function redactedConfig(config: Config): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, SECRET_SETTINGS.has(k) && v !== undefined ? "***" : v]));
}
