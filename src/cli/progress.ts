/**
 * Progress for long runs: a bar on a terminal (jobs, bytes, rate, ETA), a log line every few
 * seconds otherwise, so that journald and pm2 logs stay readable.
 */
import { createRequire } from "node:module";
import type cliProgressModule from "cli-progress";
import type { Logger } from "pino";
import type { BackfillProgress } from "../engine/runBackfill.js";

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

export type ProgressReporter = { update: (p: BackfillProgress) => void; stop: () => void };

export function createProgress(total: number, log: Logger, interactive: boolean): ProgressReporter {
  const started = Date.now();
  if (interactive && total > 0) {
    // Loaded only for a bar on a terminal: the daemon under a supervisor never needs it.
    const cliProgress = createRequire(import.meta.url)("cli-progress") as typeof cliProgressModule;
    const bar = new cliProgress.SingleBar(
      {
        format: "syncing {bar} {value}/{total} jobs | {bytes} | {rate} jobs/s | ETA {eta_formatted}",
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 200,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { bytes: "0 B", rate: "0" });
    return {
      update: (p) => {
        const secs = Math.max((Date.now() - started) / 1000, 0.001);
        bar.update(p.done, { bytes: formatBytes(p.bytes), rate: (p.done / secs).toFixed(1) });
      },
      stop: () => bar.stop(),
    };
  }
  let lastLog = 0;
  return {
    update: (p) => {
      const now = Date.now();
      if (now - lastLog < 5_000 && p.done < p.total) return;
      lastLog = now;
      log.info({ done: p.done, total: p.total, bytes: p.bytes, rate: +(p.done / Math.max((now - started) / 1000, 0.001)).toFixed(1) }, "progress");
    },
    stop: () => {},
  };
}
