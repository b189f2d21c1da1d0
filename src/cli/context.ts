/**
 * What every command shares: how it is declared (its flags, then the common ones), resolving
 * configuration once, the logger, and the Convex gateway. A command that needs Convex and has no URL or token stops here with a
 * clear line and exit code 2 (there is no silent fallback to anything else).
 */
import { Command } from "commander";
import type { Logger } from "pino";
import { SyncError } from "../errors/SyncError.js";
import { convexUrlAdvice } from "../config/convexUrlAdvice.js";
import { type LoadedConfig, loadConfig } from "../config/loadConfig.js";
import { createLogger } from "../log/createLogger.js";
import { ConvexHttpGateway } from "../remote/ConvexHttpGateway.js";
import type { ConvexGateway } from "../remote/ConvexGateway.js";

export type CommonFlags = {
  jobsDir?: string;
  convexUrl?: string;
  config?: string;
  envFile?: string;
  logLevel?: string;
  json?: boolean;
};

/** A flag or an argument as commander takes it: its syntax and the line `--help` shows for it. */
type Flag = readonly [syntax: string, description: string];

/** The flags every command takes, after its own. */
const COMMON_OPTIONS: readonly Flag[] = [
  ["--jobs-dir <dir>", "the pipeline's jobs/ folder (env CELSTATE_SYNC_JOBS_DIR; default ./jobs)"],
  ["--convex-url <url>", "the Convex deployment URL (env CONVEX_URL)"],
  ["--config <file>", "configuration file (default ./celstate-sync.config.json if present)"],
  [
    "--env-file <file>",
    "read CONVEX_URL, CELSTATE_SYNC_TOKEN, … from this file too, as a systemd EnvironmentFile= (wins over the environment)",
  ],
  ["--log-level <level>", "fatal|error|warn|info|debug|trace|silent (default info)"],
];

/** `--concurrency`, for the commands that reconcile jobs. */
const CONCURRENCY_OPTION: Flag = ["--concurrency <n>", "jobs reconciled at once (env CELSTATE_SYNC_CONCURRENCY; default 16)"];

/** A command's `--help`, part by part. */
export type CommandSpec = {
  description: string;
  /** Positional arguments, shown in the usage line and under "Arguments:". */
  arguments?: readonly Flag[];
  /** The command's own flags, listed first. */
  options: readonly Flag[];
  /** Whether it reconciles jobs, and so takes `--concurrency` (listed after its own flags). */
  reconciles?: boolean;
  /** What `--help` shows after the flags (examples, exit status), from a leading blank line. */
  help: string;
};

/** A command as `--help` shows it: its own flags, then `--concurrency` if it takes it, then the common ones. */
export function defineCommand(name: string, spec: CommandSpec): Command {
  const cmd = new Command(name).description(spec.description);
  for (const [syntax, description] of spec.arguments ?? []) cmd.argument(syntax, description);
  const options = [...spec.options, ...(spec.reconciles ? [CONCURRENCY_OPTION] : []), ...COMMON_OPTIONS];
  for (const [syntax, description] of options) cmd.option(syntax, description);
  return cmd.addHelpText("after", spec.help);
}

export type CommandContext = LoadedConfig & { log: Logger };

/**
 * Resolves the configuration for a command. `settings` are its own flags by dotted key
 * (`{ "watch.drainMs": flags.drainMs }`), as typed: they go through the same schema as the file.
 */
export function resolveContext(flags: CommonFlags, settings: Record<string, unknown> = {}): CommandContext {
  const loaded = loadConfig({
    ...(flags.config === undefined ? {} : { configPath: flags.config }),
    ...(flags.envFile === undefined ? {} : { envFile: flags.envFile }),
    flags: { jobsDir: flags.jobsDir, convexUrl: flags.convexUrl, logLevel: flags.logLevel, ...settings },
  });
  // Logs go to stderr (pretty on a terminal): stdout carries the command's result alone.
  const log = createLogger({
    level: loaded.config.logLevel,
    secrets: loaded.config.token ? [loaded.config.token] : [],
  });
  return { ...loaded, log };
}

/** The deployment URL, or a CONVEX_URL_MISSING error saying where to set it. */
export function requireConvexUrl({ config, urlLookalike }: Pick<LoadedConfig, "config" | "urlLookalike">): string {
  if (config.convexUrl === undefined) {
    throw new SyncError("CONVEX_URL_MISSING", `no Convex deployment URL: ${convexUrlAdvice(urlLookalike)}`);
  }
  return config.convexUrl;
}

export function requireConvex(loaded: Pick<LoadedConfig, "config" | "urlLookalike">): { url: string; token: string } {
  const url = requireConvexUrl(loaded);
  const { config } = loaded;
  if (config.token === undefined) {
    throw new SyncError(
      "TOKEN_MISSING",
      "no service token: set CELSTATE_SYNC_TOKEN in the environment (or .env.local) to the value set in the deployment with `npx convex env set CELSTATE_SYNC_TOKEN … --prod`",
    );
  }
  return { url, token: config.token };
}

export function createGateway(loaded: Pick<LoadedConfig, "config" | "urlLookalike">): ConvexGateway {
  const { config } = loaded;
  const { url, token } = requireConvex(loaded);
  return new ConvexHttpGateway({
    url,
    token,
    requestTimeoutMs: config.requestTimeoutMs,
    uploadTimeoutMs: config.uploadTimeoutMs,
  });
}
