/**
 * Progress for long runs: a bar on a terminal (jobs, bytes, rate, ETA), a log line every few
 * seconds otherwise, so that journald and pm2 logs stay readable. While the bar is on screen it
 * holds stderr's last line: each log line is printed above it and the bar drawn again under it,
 * and once stopped the bar stays as its last state, with the cursor on the line below it, where
 * the summary goes.
 */
import { createRequire } from "node:module";
import type cliProgressModule from "cli-progress";
import type { Logger } from "pino";
import type { BackfillProgress } from "../engine/runBackfill.js";
import { holdLastLine } from "../log/stderrSink.js";

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
    // MultiBar, with one bar, not SingleBar: SingleBar saves the cursor when it starts and
    // restores it when it stops, so after any line printed meanwhile the summary would be
    // written over them. MultiBar keeps no saved position and can print a line above its bars;
    // forceRedraw, because it draws a bar again only when its text changed, and after a log
    // line the text is the same but the bar is gone.
    const bars = new cliProgress.MultiBar(
      {
        format: "syncing {bar} {value}/{total} jobs | {bytes} | {rate} jobs/s | ETA {eta_formatted}",
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 200,
        forceRedraw: true,
      },
      cliProgress.Presets.shades_classic,
    );
    const bar = bars.create(total, 0, { bytes: "0 B", rate: "0" });
    bars.update(); // on screen now, not at its first tick
    // Printed at once (MultiBar would hold the line until its next tick, and drop it at stop).
    const release = holdLastLine({
      printAbove: (text) => {
        bars.log(text);
        bars.update();
      },
    });
    let stopped = false;
    return {
      update: (p) => {
        const secs = Math.max((Date.now() - started) / 1000, 0.001);
        bar.update(p.done, { bytes: formatBytes(p.bytes), rate: (p.done / secs).toFixed(1) });
      },
      // Once only: a second MultiBar.stop() would draw the bar again under the summary.
      stop: () => {
        if (stopped) return;
        stopped = true;
        release();
        bars.stop();
      },
    };
  }
  let lastLog = 0;
  return {
    update: (p) => {
      const now = Date.now();
      if (now - lastLog < 5_000 && p.done < p.total) return;
      lastLog = now;
      log.info(
        { done: p.done, total: p.total, bytes: p.bytes, rate: +(p.done / Math.max((now - started) / 1000, 0.001)).toFixed(1) },
        "progress",
      );
    },
    stop: () => {},
  };
}
