/**
 * How an error appears in a log line. A coded error celstate-sync raised on purpose (a refused
 * token, an outage, a file still being written) is one line an operator can act on: its code and
 * message, no stack. Only an internal error (nobody expected it: a bug, ours or the
 * deployment's) carries its stack, and at debug or trace level every error does.
 */
import pino from "pino";
import { SyncError } from "../errors/SyncError.js";

const VERBOSE_LEVELS = new Set(["debug", "trace"]);

export function errorSerializer(level: string): (e: unknown) => unknown {
  const verbose = VERBOSE_LEVELS.has(level);
  return (e) => {
    if (!(e instanceof Error)) return e;
    const serialized = pino.stdSerializers.err(e);
    if (verbose || !(e instanceof SyncError) || e.kind === "internal") return serialized;
    return { type: serialized.type, code: e.code, message: serialized.message };
  };
}
