/**
 * What `config` shows: the effective configuration with secrets masked (`redactedConfig`) and,
 * for each top-level key, where its value came from (default, file, env, .env.local, .env,
 * flag). The token never appears: it is masked by key, and any other value that happens to
 * contain it (a URL pasted with it) is masked too.
 */
import type { ConfigSource, LoadedConfig } from "../config/loadConfig.js";
import { redactedConfig } from "../config/loadConfig.js";
import { configSchema } from "../config/configSchema.js";

/** `value` is absent for a setting that has no default and was not given (convexUrl, token, …). */
export type ConfigEntry = { key: string; value?: unknown; source: ConfigSource };

export type ConfigView = { configFile: string | null; entries: ConfigEntry[] };

export const MASK = "***";

function maskIn(value: unknown, secret: string | undefined): unknown {
  if (secret === undefined || secret === "") return value;
  if (typeof value === "string") return value.split(secret).join(MASK);
  if (Array.isArray(value)) return value.map((v) => maskIn(v, secret));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskIn(v, secret)]));
  }
  return value;
}

export function configView(loaded: Pick<LoadedConfig, "config" | "sources" | "configFile">): ConfigView {
  const shown = maskIn(redactedConfig(loaded.config), loaded.config.token) as Record<string, unknown>;
  // Every setting the schema knows, so an unset one shows as such; `$schema` is for editors only.
  const keys = new Set([...Object.keys(configSchema.shape), ...Object.keys(shown)]);
  keys.delete("$schema");
  const entries = [...keys].map((key): ConfigEntry => {
    const source = loaded.sources[key] ?? "default";
    return shown[key] === undefined ? { key, source } : { key, value: shown[key], source };
  });
  return { configFile: loaded.configFile, entries };
}

/** `key  value  (source)` lines, values as JSON; aligned for reading. */
export function formatConfigView(view: ConfigView): string {
  const width = Math.max(...view.entries.map((e) => e.key.length), 0);
  const lines = [`config file: ${view.configFile ?? "(none; defaults, environment and flags only)"}`];
  for (const e of view.entries) {
    lines.push(`  ${e.key.padEnd(width)}  ${"value" in e ? JSON.stringify(e.value) : "(not set)"}  (${e.source})`);
  }
  return `${lines.join("\n")}\n`;
}
