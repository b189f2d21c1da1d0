/**
 * The one root pino logger. JSON lines to stderr (pretty on a terminal), so that stdout holds a
 * command's result alone; secrets scrubbed: known secret fields are redacted by path, and the
 * service token and upload-URL tokens are scrubbed from the final line, wherever they appear
 * (an error message, a URL).
 */
import pino, { type Logger } from "pino";
import { createRequire } from "node:module";
import type prettyModule from "pino-pretty";
import { errorSerializer } from "./errorSerializer.js";
import { stderrSink } from "./stderrSink.js";

/** Where log lines are written: anything with a `write` taking one whole line. */
export type LogDestination = { write: (line: string) => unknown };

export type LogOptions = {
  level: string;
  /** Values that must never reach a log line (the service token). */
  secrets?: readonly string[];
  /** Where lines go; default stderr (through `stderrSink`, which a progress bar can hold). */
  destination?: LogDestination;
  /** Human-readable lines; default: when logging to stderr and stderr is a terminal. */
  pretty?: boolean;
};

export const REDACT_PATHS = [
  "token",
  "serviceToken",
  "*.token",
  "*.serviceToken",
  "config.token",
  "headers.authorization",
  "headers.Authorization",
];

export function scrubSecrets(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("[REDACTED]");
  return out.replace(/([?&]token=)[^&"\s\\]+/g, "$1[REDACTED]");
}

export function createLogger(opts: LogOptions): Logger {
  const secrets = opts.secrets ?? [];
  const toStderr = opts.destination === undefined;
  const sink = opts.destination ?? stderrSink;
  const usePretty = opts.pretty ?? (toStderr && process.stderr.isTTY === true);
  const destination = usePretty ? prettyLines(sink, toStderr && process.stderr.hasColors?.() === true) : sink;
  return pino(
    {
      level: opts.level,
      base: { name: "celstate-sync" },
      redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
      hooks: { streamWrite: (s) => scrubSecrets(s, secrets) },
      serializers: { err: errorSerializer(opts.level) },
    },
    destination,
  );
}

/**
 * Each JSON line made readable, synchronously and whole (pino-pretty's formatter, not its
 * stream, whose transport would deliver lines later and in pieces): a line is written at once,
 * so a progress bar holding the terminal can print it above itself.
 */
function prettyLines(sink: LogDestination, colorize: boolean): LogDestination {
  // Loaded only for a terminal: a daemon logging JSON lines never needs it.
  const { prettyFactory } = createRequire(import.meta.url)("pino-pretty") as typeof prettyModule;
  const pretty = prettyFactory({ ignore: "pid,hostname", translateTime: "SYS:HH:MM:ss.l", colorize });
  return { write: (line) => sink.write(pretty(line)) };
}
