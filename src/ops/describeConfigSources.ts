/**
 * Where the configuration came from, in words: the files (if any) and every value
 * that is not a default, with its source. Shared by `config` and `doctor`.
 */
import type { ConfigSource, LoadedConfig } from "../config/loadConfig.js";

const SOURCE_WORDS: Partial<Record<ConfigSource, string>> = {
  file: "the file",
  env: "the environment",
  "env-file": "the env file",
  flag: "flag",
};

export function describeConfigSources(loaded: Pick<LoadedConfig, "sources" | "configFile" | "envFile">): string {
  const set = Object.entries(loaded.sources)
    .filter(([key, source]) => source !== "default" && key !== "$schema")
    .map(([key, source]) => `${key} from ${SOURCE_WORDS[source] ?? source}`);
  const file = `${loaded.configFile === null ? "no config file" : `file ${loaded.configFile}`}${loaded.envFile === null ? "" : `, env file ${loaded.envFile}`}`;
  return `${file}; ${set.length === 0 ? "everything else default" : `${set.join(", ")}; the rest default`}`;
}
