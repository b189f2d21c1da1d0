/**
 * `celstate-sync config`: the effective configuration, secrets masked, with where each
 * top-level value came from (default, file, env, .env.local, .env, flag).
 */
import type { Command } from "commander";
import { configView, formatConfigView } from "../ops/configView.js";
import { type CommonFlags, defineCommand, resolveContext } from "./context.js";

export function configCommand(): Command {
  const cmd = defineCommand("config", {
    description: "Print the effective configuration (token masked) and where each value came from",
    options: [["--json", "print it as one JSON object on stdout"]],
    help: `
Precedence, lowest first: defaults < celstate-sync.config.json (or --config) < .env < .env.local
< environment < flags.

Examples:
  $ celstate-sync config
  $ celstate-sync config --jobs-dir /srv/celstate/jobs --json

Exit status: 0 the configuration is valid, 2 it is not (the message names the setting and its source).`,
  });
  cmd.action((flags: CommonFlags) => {
    const ctx = resolveContext(flags);
    const view = configView(ctx);
    process.stdout.write(flags.json ? `${JSON.stringify(view)}\n` : formatConfigView(view));
  });
  return cmd;
}
