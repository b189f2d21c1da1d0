/**
 * `celstate-sync watch`: the daemon. Takes the instance lock, starts the WatchDaemon (whose
 * start-up checks the deployment), and on SIGTERM/SIGINT stops taking events, drains within a deadline and exits 0.
 * Convex being unreachable at start is not fatal (the engine probes until it is back); a
 * refused token or a mismatched deployment is (exit 2), as a supervisor restart cannot fix it.
 */
import type { Command } from "commander";
import { FallbackWatchBackend } from "../watch/FallbackWatchBackend.js";
import { acquireInstanceLock } from "../watch/instanceLock.js";
import { WatchDaemon } from "../watch/WatchDaemon.js";
import { POLL_INTERVAL_MS } from "../timing.js";
import { type CommonFlags, createGateway, defineCommand, resolveContext } from "./context.js";

type WatchFlags = CommonFlags & { healthPort?: string; drainMs?: string; concurrency?: string };

export function watchCommand(): Command {
  const cmd = defineCommand("watch", {
    description: "Run the daemon: reconcile everything on disk, then mirror every change as it happens",
    options: [
      ["--health-port <port>", "serve /healthz, /readyz and /metrics on 127.0.0.1:<port> (off by default)"],
      ["--drain-ms <ms>", "on SIGTERM or SIGINT, time given to in-flight work before it is abandoned (default 10000)"],
    ],
    reconciles: true,
    help: `
Examples:
  $ CONVEX_URL=https://happy-otter-123.convex.cloud CELSTATE_SYNC_TOKEN=… celstate-sync watch --jobs-dir /srv/celstate/jobs
  $ celstate-sync watch --health-port 9464     # then: curl 127.0.0.1:9464/metrics

Runs until SIGTERM or SIGINT, then exits 0. Exit 2: configuration, token or lock problem.
See deploy/celstate-sync@.service (systemd) and ecosystem.config.cjs (pm2).`,
  });
  cmd.action(async (flags: WatchFlags) => {
    const ctx = resolveContext(flags, { healthPort: flags.healthPort, "watch.drainMs": flags.drainMs, concurrency: flags.concurrency });
    const { config, log } = ctx;
    const gateway = createGateway(ctx);
    const lock = await acquireInstanceLock(config.jobsDir, {
      onCompromised: (e) => log.error({ err: e.message }, "the instance lock was lost (another process took it?)"),
    });
    try {
      // The daemon's start-up checks the deployment (one handshake): not ready yet is waited
      // for, a refusal is its engine's fatal error, which ends the command below with exit 2.
      const backend = new FallbackWatchBackend(POLL_INTERVAL_MS, { polling: config.watch.polling });
      const daemon = new WatchDaemon({ config, gateway, backend, log });
      let fatal: Error | null = null;
      const stopped = new Promise<string>((resolve) => {
        process.once("SIGTERM", () => resolve("SIGTERM"));
        process.once("SIGINT", () => resolve("SIGINT"));
        daemon.engine.once("fatal", (e: Error) => {
          fatal = e;
          resolve("fatal error");
        });
      });
      await daemon.start();
      log.info({ jobsDir: config.jobsDir, ...(backend.polling ? { polling: true } : {}) }, "watching");
      const why = await stopped;
      log.info({ why }, "stopping: draining in-flight work");
      const { abandoned } = await daemon.stop(config.watch.drainMs);
      log.info({ abandoned: abandoned.length }, abandoned.length ? "stopped; abandoned work is picked up at the next start" : "stopped");
      if (fatal) throw fatal;
    } finally {
      await lock.release().catch(() => undefined);
      log.flush();
    }
  });
  return cmd;
}
