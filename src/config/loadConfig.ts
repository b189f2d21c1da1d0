/**
 * Resolves the configuration once: defaults < `celstate-sync.config.json` (or `--config`) <
 * environment (also read from `.env.local` and `.env`, as the Convex CLI writes them; the real
 * environment wins) < flags. Validates with the zod schema and returns a frozen object plus
 * where each top-level value came from. Errors are one line naming the setting and its source.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseDotenv } from "dotenv";
import { SyncError } from "../errors/SyncError.js";
import { compileAssetRules } from "../local/compileAssetRules.js";
import { type Config, configSchema } from "./configSchema.js";

export const CONFIG_FILE = "celstate-sync.config.json";

export type ConfigSource = "default" | "file" | "env" | ".env.local" | ".env" | "flag";

export type LoadedConfig = {
  config: Config;
  sources: Readonly<Record<string, ConfigSource>>;
  configFile: string | null;
};

export type LoadOptions = {
  cwd?: string;
  /** `--config F`; when given, the file must exist. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, already in schema shape (undefined = not given). */
  flags?: Record<string, unknown>;
};

/** Environment variable → config key, with the parser for its text. */
const ENV_KEYS: Record<string, { key: string; parse: (s: string) => unknown }> = {
  CONVEX_URL: { key: "convexUrl", parse: (s) => s },
  CELSTATE_SYNC_TOKEN: { key: "token", parse: (s) => s },
  CELSTATE_SYNC_JOBS_DIR: { key: "jobsDir", parse: (s) => s },
  CELSTATE_SYNC_CONCURRENCY: { key: "concurrency", parse: Number },
  CELSTATE_SYNC_LOG_LEVEL: { key: "logLevel", parse: (s) => s },
  CELSTATE_SYNC_HEALTH_PORT: { key: "healthPort", parse: Number },
};

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

function readDotenv(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  return parseDotenv(readFileSync(file));
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const sources: Record<string, ConfigSource> = {};
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
    for (const [k, v] of Object.entries(readJsonFile(configFile))) {
      merged[k] = v;
      sources[k] = "file";
    }
  }

  // Lowest first: .env, then .env.local, then the real environment.
  const layers: Array<[ConfigSource, Record<string, string | undefined>]> = [
    [".env", readDotenv(path.join(cwd, ".env"))],
    [".env.local", readDotenv(path.join(cwd, ".env.local"))],
    ["env", env],
  ];
  for (const [source, vars] of layers) {
    for (const [name, { key, parse }] of Object.entries(ENV_KEYS)) {
      const text = vars[name];
      if (text === undefined || text === "") continue;
      merged[key] = parse(text);
      sources[key] = source;
    }
  }

  for (const [k, v] of Object.entries(opts.flags ?? {})) {
    if (v === undefined) continue;
    merged[k] = v;
    sources[k] = "flag";
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join(".");
    const top = String(issue.path[0] ?? "");
    const got = issue.path.reduce<unknown>((o, p) => (o as Record<PropertyKey, unknown> | undefined)?.[p as PropertyKey], merged);
    const source = sources[top] ?? "default";
    const where = source === "file" ? `in ${configFile}` : source === "flag" ? "from a flag" : source === "default" ? "" : `from ${source === "env" ? "the environment" : source}`;
    const shown = top === "token" ? "***" : JSON.stringify(got);
    throw new SyncError(
      "CONFIG_INVALID",
      `\`${key || "(config)"}\` ${where ? `${where} ` : ""}is invalid: ${issue.message}${got === undefined ? "" : `, got ${shown}`}`,
    );
  }
  try {
    compileAssetRules(parsed.data.assets);
  } catch (e) {
    const source = sources.assets ?? "default";
    throw new SyncError("CONFIG_INVALID", `\`assets\` ${source === "file" ? `in ${configFile} ` : ""}is invalid: ${(e as Error).message}`, { cause: e });
  }
  const config = deepFreeze({ ...parsed.data, jobsDir: path.resolve(cwd, parsed.data.jobsDir) });
  for (const k of Object.keys(config)) sources[k] ??= "default";
  return { config, sources: Object.freeze(sources), configFile };
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === "object") {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The configuration as it may be shown: the token masked. */
export function redactedConfig(config: Config): Record<string, unknown> {
  return { ...config, token: config.token === undefined ? undefined : "***" };
}
