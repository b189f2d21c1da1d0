/**
 * The service token never appears in anything celstate-sync prints: every command runs as the
 * binary at the most verbose log level (trace), through successes, retries after injected 503s
 * and a dropped upload, a failure marker and its retry, a refused token and a configuration
 * error, and all of stdout and stderr is searched for the token and for upload-URL tokens.
 * `config` masks it wherever it came from: the environment, `.env.local` or the config file; a
 * deployment URL with it pasted inside is refused without being printed.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { makePng } from "../helpers/png.js";
import { type CliResult, cleanEnv, DaemonProcess, runCli } from "../helpers/runCli.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";

let h: Harness;
let cwd: string;
const outputs: Array<{ what: string; text: string }> = [];

function record(what: string, r: Pick<CliResult, "stdout" | "stderr">): void {
  outputs.push({ what, text: `${r.stdout}\n${r.stderr}` });
}

/** An upload URL's token that was not scrubbed. */
const UPLOAD_TOKEN = /[?&]token=(?!\[REDACTED\])[A-Za-z0-9_-]{8,}/;

function expectNoSecret(what: string, text: string, secret: string): void {
  expect(text.includes(secret), `${what} printed the token`).toBe(false);
  expect(UPLOAD_TOKEN.exec(text)?.[0] ?? null, `${what} printed an upload URL token`).toBeNull();
}

beforeAll(async () => {
  h = await createHarness();
  cwd = await mkdtemp(path.join(tmpdir(), "celstate-token-cwd-"));
  // Short retries, so the injected faults cost milliseconds; settle quickly for the same reason.
  await writeFile(
    path.join(cwd, "celstate-sync.config.json"),
    JSON.stringify({ settleMs: 20, settleWaitMs: 1_000, retry: { baseMs: 20, maxMs: 200 } }),
  );
});
afterEach(() => {
  h.standin.clearFaults();
});
afterAll(async () => {
  await h.cleanup();
  await rm(cwd, { recursive: true, force: true });
});

describe("the service token", () => {
  it("every command › at log level trace, through retries, markers, refusals and errors, prints neither the token nor an upload-URL token", async () => {
    const env = cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: h.token, CELSTATE_SYNC_LOG_LEVEL: "trace" });
    const run = async (what: string, args: string[], e = env) => {
      const r = await runCli(args, { env: e, cwd, timeoutMs: 90_000 });
      record(what, r);
      return r;
    };
    const jobs = [0, 1, 2].map(() => new PipelineJob(h.jobsDir, { pngBytes: 40_000 }));
    for (const j of jobs) await j.runToSuccess();
    // One job will fail permanently (a listed asset is missing) and get a marker.
    const broken = new PipelineJob(h.jobsDir);
    await broken.runToSuccess();
    await rm(path.join(broken.dir, "outputs", `${broken.name}_debug.png`));

    // Faults past the start-up handshake (a failed handshake ends a backfill at once).
    h.standin.setFaults([
      { status: 503, count: 2, path: "sync:getStates" },
      { dropUpload: true, count: 1 },
      { failCommit: true, count: 1 },
    ]);
    const backfill = await run("backfill", ["backfill", "--jobs-dir", h.jobsDir, "--log-level", "trace"]);
    expect(backfill.code).toBe(1); // the broken job
    expect(backfill.stderr).toMatch(/"level":20/); // debug lines (the most verbose the code writes) are in

    await Promise.all([
      run("status", ["status", "--jobs-dir", h.jobsDir, "--log-level", "trace"]),
      run("status --json", ["status", "--jobs-dir", h.jobsDir, "--json", "--log-level", "trace"]),
      run("verify", ["verify", "--jobs-dir", h.jobsDir, "--log-level", "trace"]),
      run("doctor", ["doctor", "--jobs-dir", h.jobsDir, "--log-level", "trace"]),
    ]);

    // The daemon, with live writes and an outage while it runs.
    const daemon = new DaemonProcess(["watch", "--jobs-dir", h.jobsDir, "--log-level", "trace"], { env, cwd });
    let stop: Awaited<ReturnType<typeof daemon.stop>>;
    try {
      await daemon.waitForLog('"msg":"start-up reconcile done; watching"', 60_000);
      h.standin.setFaults([
        { status: 503, count: 3, path: "sync:commit" },
        { dropUpload: true, count: 1 },
      ]);
      const live = new PipelineJob(h.jobsDir, { pngBytes: 40_000 });
      await live.runToSuccess();
      await waitFor(async () => (await h.getPublic(live.id))?.status === "succeeded", { timeoutMs: 30_000, what: "the live job synced" });
    } finally {
      stop = await daemon.stop("SIGTERM");
    }
    expect(stop.code).toBe(0);
    record("watch", daemon);

    // The missing file is back: retry clears the marker and syncs the job.
    await writeFile(path.join(broken.dir, "outputs", `${broken.name}_debug.png`), makePng(4, 4, 7));
    const retry = await run("retry", ["retry", "--all-failed", "--jobs-dir", h.jobsDir, "--log-level", "trace"]);
    expect(retry.code, retry.stderr).toBe(0);

    for (const { what, text } of outputs) expectNoSecret(what, text, h.token);
    expect(outputs.map((o) => o.what).sort()).toEqual(["backfill", "doctor", "retry", "status", "status --json", "verify", "watch"]);
  }, 180_000);

  it("every command › a token the deployment refuses is not printed either, nor is it on a configuration error", async () => {
    h.standin.clearFaults();
    const wrong = randomBytes(24).toString("hex");
    const env = cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: wrong, CELSTATE_SYNC_LOG_LEVEL: "trace" });
    const refused = await runCli(["backfill", "--jobs-dir", h.jobsDir, "--log-level", "trace"], { env, cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/UNAUTHORIZED/);
    expectNoSecret("backfill with a refused token", `${refused.stdout}${refused.stderr}`, wrong);
    const badConfig = await runCli(["backfill", "--jobs-dir", h.jobsDir], { env: { ...env, CELSTATE_SYNC_CONCURRENCY: "lots" }, cwd });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/concurrency/);
    expectNoSecret("a configuration error", `${badConfig.stdout}${badConfig.stderr}`, wrong);
    const emptyTokenInFile = await mkdtemp(path.join(tmpdir(), "celstate-token-cfg-"));
    try {
      // An invalid token value is named as invalid, never shown. Ten digits: the random
      // suffix of the temp folder (six letters and digits, named in the message) cannot hold them.
      await writeFile(path.join(emptyTokenInFile, "celstate-sync.config.json"), JSON.stringify({ token: 4_815_162_342 }));
      const shown = await runCli(["config"], { env: cleanEnv(), cwd: emptyTokenInFile });
      expect(shown.code).toBe(2);
      expect(shown.stderr).toMatch(/`token`/);
      expect(shown.stderr).not.toContain("4815162342");
    } finally {
      await rm(emptyTokenInFile, { recursive: true, force: true });
    }
  }, 60_000);

  it.concurrent.each([
    ["the environment", "env"],
    [".env.local", "dotenv"],
    ["the config file", "file"],
    ["inside the deployment URL", "url"],
  ])(
    "config › masks the token when it comes from %s (text and --json)",
    async (_label, source) => {
      const token = randomBytes(24).toString("hex");
      const dir = await mkdtemp(path.join(tmpdir(), "celstate-config-"));
      try {
        let env = cleanEnv({ CONVEX_URL: h.standin.url });
        if (source === "env") env = { ...env, CELSTATE_SYNC_TOKEN: token };
        if (source === "dotenv") await writeFile(path.join(dir, ".env.local"), `CELSTATE_SYNC_TOKEN=${token}\n`);
        if (source === "file") await writeFile(path.join(dir, "celstate-sync.config.json"), JSON.stringify({ token }));
        if (source === "url") env = { ...env, CELSTATE_SYNC_TOKEN: token, CONVEX_URL: `${h.standin.url}/?key=${token}` };
        const runs = [["config"], ["config", "--json"]].map(
          async (args) => [args, await runCli([...args, "--log-level", "trace"], { env, cwd: dir })] as const,
        );
        for (const [args, r] of await Promise.all(runs)) {
          if (source === "url") {
            expect(r.code, r.stderr).toBe(2);
            expect(r.stderr).toMatch(
              /`convexUrl` from the environment \(CONVEX_URL\) is invalid: a deployment URL has no credentials, query or fragment/,
            );
          } else {
            expect(r.code, r.stderr).toBe(0);
            expect(r.stdout).toMatch(/token/);
          }
          expect(`${r.stdout}${r.stderr}`.includes(token), `${args.join(" ")} from ${source}`).toBe(false);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
