#!/usr/bin/env node
// Entry point. No build step to remember: the TypeScript sources are bundled on first use into
// dist/cli.js (esbuild, ~0.2 s; node_modules stay external) and rebuilt whenever a source file
// is newer than the bundle. Where the install folder is read-only (a hardened systemd unit),
// or CELSTATE_SYNC_FROM_SOURCE=1, the sources run directly through tsx instead (slower start).
import { runCli } from "../scripts/cliBundle.js";

process.exitCode = await runCli(process.argv);
