#!/usr/bin/env node
// Runs the TypeScript sources directly (no build step to remember): tsx registers a loader,
// then the CLI decides the exit code.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv);
