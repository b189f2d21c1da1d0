/**
 * `npm run demo`: the whole product on one machine, no cloud needed. Starts the local Convex
 * stand-in (running this repo's convex/ functions behind the real wire protocol), starts the
 * celstate-sync daemon against it as a separate process, plays the pipeline writing a few jobs
 * through every stage (temp file + rename, PNGs written in place, NaN in telemetry), waits
 * until Convex has them, and prints what the public API (`jobs:getPublic`) serves.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { parsePublicComponent } from "../src/remote/publicComponent.js";
import { PipelineJob } from "../tests/helpers/pipelineWriter.js";
import { startStandin } from "../tests/standin/StandinServer.js";

const getPublic = makeFunctionReference<"query">("jobs:getPublic");
const say = (s: string) => process.stdout.write(`${s}\n`);

async function main(): Promise<void> {
  const token = randomBytes(24).toString("hex");
  const standin = await startStandin({ port: 0, token });
  const jobsDir = await mkdtemp(path.join(tmpdir(), "celstate-demo-jobs-"));
  say(`1. Convex stand-in listening on ${standin.url}`);
  say(`2. jobs folder ${jobsDir}`);

  const daemon = spawn(process.execPath, ["bin/celstate-sync.js", "watch", "--jobs-dir", jobsDir, "--log-level", "info"], {
    env: { ...process.env, CONVEX_URL: standin.url, CELSTATE_SYNC_TOKEN: token },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let daemonLog = "";
  daemon.stdout.on("data", (b: Buffer) => {
    daemonLog += b.toString();
  });
  daemon.stderr.on("data", (b: Buffer) => {
    daemonLog += b.toString();
  });
  say("3. celstate-sync watch started as its own process");

  const client = new ConvexHttpClient(standin.url, { logger: false });
  try {
    // Live mirroring: write only once the daemon is up and watching.
    const upBy = Date.now() + 20_000;
    while (!daemonLog.includes("start-up reconcile done") && Date.now() < upBy) await new Promise((r) => setTimeout(r, 50));
    const jobs = [
      new PipelineJob(jobsDir, { name: "ivy_sign_frame", pngBytes: 96 * 1024 }),
      new PipelineJob(jobsDir, { name: "oak_button", pngBytes: 48 * 1024, withMask: false, type: "icon" }),
      new PipelineJob(jobsDir, { name: "rate_limited", pngBytes: 16 * 1024 }),
    ];
    say("4. the pipeline writes three jobs through every stage");
    await Promise.all([
      jobs[0]!.runToSuccess(),
      jobs[1]!.runToSuccess(),
      (async () => {
        await jobs[2]!.queued();
        await jobs[2]!.running();
        await jobs[2]!.failed("Rate Limit Exceeded. Please try again later.", 60);
      })(),
    ]);

    const deadline = Date.now() + 20_000;
    const expected = new Map(jobs.map((j) => [j.id, j.record.status]));
    let views: Array<Record<string, unknown> | null> = [];
    while (Date.now() < deadline) {
      views = (await Promise.all(jobs.map((j) => client.query(getPublic, { jobId: j.id })))) as typeof views;
      const done = views.every((v, i) => v !== null && v.status === expected.get(jobs[i]!.id));
      if (done) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    say("5. what jobs:getPublic serves (the component is job.json's JSON text, URLs in place of its nulls):");
    for (const v of views) {
      if (v === null) continue;
      const { component, ...rest } = v;
      say(`${JSON.stringify(rest)}\n  component: ${String(component ?? null)}`);
    }

    const first = parsePublicComponent((views[0]?.component as string | null | undefined) ?? null);
    const [name, url] = Object.entries(first?.assets ?? {})[0] ?? [];
    if (name && typeof url === "string") {
      const remote = Buffer.from(await (await fetch(url)).arrayBuffer());
      const local = await readFile(path.join(jobsDir, jobs[0]!.id, "outputs", name));
      const h = (b: Buffer) => createHash("sha256").update(b).digest("hex").slice(0, 16);
      say(
        `6. ${name}: served ${remote.length} bytes sha256 ${h(remote)}…, local ${local.length} bytes sha256 ${h(local)}… ${h(remote) === h(local) ? "(identical)" : "(DIFFERENT)"}`,
      );
    }
    const s = standin.stats();
    say(`7. stand-in saw ${JSON.stringify(s.functionCalls)}; ${s.blobs.count} blobs, ${s.blobs.bytes} bytes`);
    const ok = views.every((v, i) => v !== null && v.status === expected.get(jobs[i]!.id));
    say(ok ? "demo ok: every job arrived" : "demo FAILED: not every job arrived in time");
    process.exitCode = ok ? 0 : 1;
  } finally {
    daemon.kill("SIGTERM");
    const code = await new Promise<number | null>((r) => daemon.once("exit", (c) => r(c)));
    say(`8. daemon stopped on SIGTERM with exit code ${code}`);
    if (process.env.DEMO_VERBOSE) process.stdout.write(`--- daemon log ---\n${daemonLog}`);
    else say(`   (${daemonLog.split("\n").filter(Boolean).length} daemon log lines; DEMO_VERBOSE=1 prints them)`);
    await standin.stop();
    await rm(jobsDir, { recursive: true, force: true });
  }
}

await main();
