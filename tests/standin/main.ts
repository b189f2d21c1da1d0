/**
 * CLI of the stand-in: `npm run standin -- --port 3210 [--latency-ms 20] [--upload-dir DIR]`.
 * Prints `listening on http://127.0.0.1:<port>` once it accepts connections, serves until
 * SIGTERM or SIGINT, then stops and exits 0. `CELSTATE_SYNC_TOKEN` in its environment plays
 * the deployment's environment variable.
 */
import { parseArgs } from "node:util";
import { startStandin } from "./StandinServer.js";

const USAGE = "usage: standin [--port <n, 0 = any free port; default 3210>] [--latency-ms <n>] [--upload-dir <dir>]";

function intOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`Expected \`--${name}\` to be an integer >= 0, got \`${text}\``);
  return n;
}

async function main(): Promise<number> {
  let options: { port: number; latencyMs: number; uploadDir?: string };
  try {
    const { values } = parseArgs({
      options: {
        port: { type: "string" },
        "latency-ms": { type: "string" },
        "upload-dir": { type: "string" },
        help: { type: "boolean" },
      },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    options = {
      port: intOption("port", values.port, 3210),
      latencyMs: intOption("latency-ms", values["latency-ms"], 0),
      ...(values["upload-dir"] === undefined ? {} : { uploadDir: values["upload-dir"] }),
    };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }

  const standin = await startStandin(options);
  process.stdout.write(`listening on ${standin.url}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await standin.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`standin: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
