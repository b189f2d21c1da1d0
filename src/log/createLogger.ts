/**
 * The one root pino logger. JSON lines to stdout (pretty on a terminal), secrets scrubbed:
 * known secret fields are redacted by path, and the service token and upload-URL tokens are
 * scrubbed from the final line, wherever they appear (an error message, a URL).
 */
import pino, { type Logger } from "pino";
import { createRequire } from "node:module";
import type prettyModule from "pino-pretty";

export type LogOptions = {
  level: string;
  /** Values that must never reach a log line (the service token). */
  secrets?: readonly string[];
  /** Where lines go; default stdout. */
  destination?: NodeJS.WritableStream;
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
  const usePretty = opts.pretty ?? (opts.destination === undefined && process.stdout.isTTY === true);
  const destination = usePretty
    ? // Loaded only for a terminal: a daemon logging JSON lines never needs it.
      (createRequire(import.meta.url)("pino-pretty") as typeof prettyModule)({ sync: true, destination: opts.destination ?? 1, ignore: "pid,hostname", translateTime: "SYS:HH:MM:ss.l" })
    : (opts.destination ?? pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level: opts.level,
      base: { name: "celstate-sync" },
      redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
      hooks: { streamWrite: (s) => scrubSecrets(s, secrets) },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}
