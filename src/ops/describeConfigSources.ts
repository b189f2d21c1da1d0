/**
 * Where the configuration came from, in words: the file (if any) and every top-level value
 * that is not a default, with its source. Shared by `config` and `doctor`.
 */
import type { LoadedConfig } from "../config/loadConfig.js";

export function describeConfigSources(loaded: Pick<LoadedConfig, "sources" | "configFile">): string {
  const set = Object.entries(loaded.sources)
    .filter(([key, source]) => source !== "default" && key !== "$schema")
    .map(([key, source]) => `${key} from ${source === "file" ? "the file" : source === "env" ? "the environment" : source}`);
  const file = loaded.configFile === null ? "no config file" : `file ${loaded.configFile}`;
  return `${file}; ${set.length === 0 ? "everything else default" : `${set.join(", ")}; the rest default`}`;
}
