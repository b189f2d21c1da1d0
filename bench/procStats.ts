/**
 * What Linux says about a process, read from /proc: resident memory now and at its peak
 * (VmRSS, VmHWM), CPU time used (utime + stime), inotify watches held (the `inotify` lines of
 * every fdinfo entry) and bytes read through read(2) (rchar). Linux only, as the daemon's
 * production host is.
 */
import { readdir, readFile } from "node:fs/promises";

/** Clock ticks per second: USER_HZ, 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;

export type ProcSnapshot = { rssBytes: number; hwmBytes: number; cpuMs: number; atMs: number };

function kb(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

export async function readProcSnapshot(pid: number): Promise<ProcSnapshot> {
  const [status, stat] = await Promise.all([readFile(`/proc/${pid}/status`, "utf8"), readFile(`/proc/${pid}/stat`, "utf8")]);
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return { rssBytes: kb(status, "VmRSS"), hwmBytes: kb(status, "VmHWM"), cpuMs: ((utime + stime) * 1000) / CLOCK_TICKS, atMs: Date.now() };
}

export async function countInotifyWatches(pid: number): Promise<number> {
  let n = 0;
  for (const fd of await readdir(`/proc/${pid}/fdinfo`)) {
    const info = await readFile(`/proc/${pid}/fdinfo/${fd}`, "utf8").catch(() => "");
    for (const line of info.split("\n")) if (line.startsWith("inotify")) n++;
  }
  return n;
}

/**
 * Polls a process while it runs and keeps the peaks: VmHWM is lost when the process exits,
 * so it is read every `intervalMs` and the last value seen is the peak up to then.
 */
export class ProcSampler {
  peakHwmBytes = 0;
  peakRssBytes = 0;
  last: ProcSnapshot | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 50,
  ) {}

  start(): this {
    const tick = () => {
      readProcSnapshot(this.pid).then(
        (s) => {
          this.last = s;
          this.peakHwmBytes = Math.max(this.peakHwmBytes, s.hwmBytes);
          this.peakRssBytes = Math.max(this.peakRssBytes, s.rssBytes);
        },
        () => undefined, // the process ended
      );
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
