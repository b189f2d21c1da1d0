/**
 * What `config` shows: every setting by dotted key (`retry.maxAttempts`), its effective value
 * and where it came from (default, file, env, .env.local, .env, env-file, flag). Secret settings
 * (the token) are masked by key; no other value is searched for their text.
 */
import type { ConfigSource, LoadedConfig } from "../config/loadConfig.js";
import { SETTINGS } from "../config/loadConfig.js";
import { SECRET_SETTINGS } from "../config/configSchema.js";

/** `value` is absent for a setting that has no default and was not given (convexUrl, token, …). */
export type ConfigEntry = { key: string; value?: unknown; source: ConfigSource };

export type ConfigView = { configFile: string | null; envFile: string | null; entries: ConfigEntry[] };

export const MASK = "***";

export function configView(loaded: Pick<LoadedConfig, "config" | "sources" | "configFile" | "envFile">): ConfigView {
  const entries = [...SETTINGS.keys()]
    // `$schema` is for editors only.
    .filter((key) => key !== "$schema")
    .map((key): ConfigEntry => {
      const source = loaded.sources[key] ?? "default";
      const value = key.split(".").reduce<unknown>((o, p) => (o as Record<string, unknown> | undefined)?.[p], loaded.config);
      if (value === undefined) return { key, source };
      return { key, value: SECRET_SETTINGS.has(key) ? MASK : value, source };
    });
  return { configFile: loaded.configFile, envFile: loaded.envFile, entries };
}

/** `key  value  (source)` lines, values as JSON; aligned for reading. */
export function formatConfigView(view: ConfigView): string {
  const width = Math.max(...view.entries.map((e) => e.key.length), 0);
  const lines = [
    `config file: ${view.configFile ?? "(none; defaults, environment and flags only)"}`,
    ...(view.envFile === null ? [] : [`env file: ${view.envFile}`]),
  ];
  for (const e of view.entries) {
    lines.push(`  ${e.key.padEnd(width)}  ${"value" in e ? JSON.stringify(e.value) : "(not set)"}  (${e.source})`);
  }
  return `${lines.join("\n")}\n`;
}
