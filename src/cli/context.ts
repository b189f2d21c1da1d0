/**
 * What every command shares: the common flags, resolving configuration once, the logger, and
 * the Convex gateway. A command that needs Convex and has no URL or token stops here with a
 * clear line and exit code 2 (there is no silent fallback to anything else).
 */
import type { Command } from "commander";
import type { Logger } from "pino";
import { SyncError } from "../errors/SyncError.js";
import { type LoadedConfig, loadConfig } from "../config/loadConfig.js";
import type { Config } from "../config/configSchema.js";
import { createLogger } from "../log/createLogger.js";
import { ConvexHttpGateway } from "../remote/ConvexHttpGateway.js";
import type { ConvexGateway } from "../remote/ConvexGateway.js";

export type CommonFlags = {
  jobsDir?: string;
  convexUrl?: string;
  config?: string;
  logLevel?: string;
  json?: boolean;
};

export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option("--jobs-dir <dir>", "the pipeline's jobs/ folder (env CELSTATE_SYNC_JOBS_DIR; default ./jobs)")
    .option("--convex-url <url>", "the Convex deployment URL (env CONVEX_URL)")
    .option("--config <file>", "configuration file (default ./celstate-sync.config.json if present)")
    .option("--log-level <level>", "fatal|error|warn|info|debug|trace|silent (default info)");
}

export type CommandContext = LoadedConfig & { log: Logger };

export function resolveContext(flags: CommonFlags, extra: Record<string, unknown> = {}): CommandContext {
  const loaded = loadConfig({
    ...(flags.config === undefined ? {} : { configPath: flags.config }),
    flags: { jobsDir: flags.jobsDir, convexUrl: flags.convexUrl, logLevel: flags.logLevel, ...extra },
  });
  // Logs go to stderr (pretty on a terminal): stdout carries the command's result alone.
  const log = createLogger({
    level: loaded.config.logLevel,
    secrets: loaded.config.token ? [loaded.config.token] : [],
  });
  return { ...loaded, log };
}

export function requireConvex(config: Config): { url: string; token: string } {
  if (config.convexUrl === undefined) {
    throw new SyncError(
      "CONVEX_URL_MISSING",
      "no Convex deployment URL: pass --convex-url, set CONVEX_URL (or put it in .env.local), or set convexUrl in celstate-sync.config.json",
    );
  }
  if (config.token === undefined) {
    throw new SyncError(
      "TOKEN_MISSING",
      "no service token: set CELSTATE_SYNC_TOKEN in the environment (or .env.local) to the value set in the deployment with `npx convex env set CELSTATE_SYNC_TOKEN … --prod`",
    );
  }
  return { url: config.convexUrl, token: config.token };
}

export function createGateway(config: Config): ConvexGateway {
  const { url, token } = requireConvex(config);
  return new ConvexHttpGateway({
    url,
    token,
    requestTimeoutMs: config.requestTimeoutMs,
    uploadTimeoutMs: config.uploadTimeoutMs,
  });
}
