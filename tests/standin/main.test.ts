/**
 * The stand-in's CLI as a child process: the listening line, a working deployment behind it,
 * and a clean exit on SIGTERM.
 */
import { API_VERSION } from "../../convex/lib/apiVersion.js";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ConvexHttpClient } from "convex/browser";
import { ConvexError } from "convex/values";
import { afterEach, describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api.js";
import { TOKEN } from "./standinTestKit.js";
import { waitFor } from "../helpers/waitFor.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
let child: ChildProcessWithoutNullStreams | undefined;

afterEach(() => {
  if (child !== undefined && child.exitCode === null) child.kill("SIGKILL");
  child = undefined;
});

function start(args: string[]): { proc: ChildProcessWithoutNullStreams; out: () => string; exit: Promise<number | null> } {
  const proc = spawn(process.execPath, ["--import", "tsx", "tests/standin/main.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, CELSTATE_SYNC_TOKEN: TOKEN },
  });
  child = proc;
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", () => {});
  const exit = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, out: () => out, exit };
}

describe("main", () => {
  test("main › prints the listening line for --port 0, serves the functions, exits 0 on SIGTERM", async () => {
    const { proc, out, exit } = start(["--port", "0"]);
    await waitFor(() => /listening on http:\/\/127\.0\.0\.1:\d+\n/.test(out()), { what: "the listening line", timeoutMs: 20_000 });
    const line = out()
      .split("\n")
      .find((l) => l.startsWith("listening on "))!;
    expect(line).toMatch(/^listening on http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    const url = line.slice("listening on ".length);

    const client = new ConvexHttpClient(url, { logger: false });
    expect((await client.query(api.sync.handshake, { serviceToken: TOKEN })).apiVersion).toBe(API_VERSION);
    const err = await client.query(api.sync.handshake, { serviceToken: "wrong" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConvexError);

    proc.kill("SIGTERM");
    expect(await exit).toBe(0);
  });

  test("main › `npm run standin` stopped with SIGTERM leaves no stand-in behind", async () => {
    // Its own process group, so that cleaning up reaches the stand-in under npm and nothing else.
    const npm = spawn("npm", ["run", "-s", "standin", "--", "--port", "0"], {
      cwd: ROOT,
      env: { ...process.env, CELSTATE_SYNC_TOKEN: TOKEN },
      detached: true,
    });
    let out = "";
    npm.stdout.on("data", (d: Buffer) => (out += d.toString()));
    npm.stderr.on("data", () => {});
    const npmExit = new Promise<void>((resolve) => npm.on("exit", () => resolve()));
    let url: string | undefined;
    try {
      await waitFor(() => /listening on http:\/\/127\.0\.0\.1:\d+\n/.test(out), { what: "the listening line", timeoutMs: 30_000 });
      url = out
        .split("\n")
        .find((l) => l.startsWith("listening on "))!
        .slice("listening on ".length);
      npm.kill("SIGTERM");
      await npmExit;
      // The stand-in itself is gone: its port refuses connections.
      const served = async () =>
        fetch(`${url}/version`).then(
          () => true,
          () => false,
        );
      await waitFor(async () => !(await served()), { what: "the stand-in to stop with npm", timeoutMs: 10_000 });
    } finally {
      try {
        process.kill(-npm.pid!, "SIGKILL");
      } catch {
        // the group is gone already
      }
    }
  });

  test("main › refuses a malformed option with exit code 2", async () => {
    const { exit } = start(["--port", "-5"]);
    expect(await exit).toBe(2);
  });
});
