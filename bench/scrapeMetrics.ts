/**
 * Reads the daemon's own Prometheus counters from its health port (`--health-port 0` logs the
 * port it took): how many reconciles, by outcome, a workload cost.
 */
import type { CelstateSyncProcess } from "./CelstateSyncProcess.js";

/** The port from the daemon's "health and metrics on 127.0.0.1" log line. */
export async function healthPortOf(p: CelstateSyncProcess, timeoutMs = 30_000): Promise<number> {
  await p.waitForLog("health and metrics on 127.0.0.1", timeoutMs);
  const line = p.stderr.split("\n").find((l) => l.includes("health and metrics on 127.0.0.1")) ?? "";
  const m = /"port":(\d+)/.exec(line);
  if (!m) throw new Error(`no port in the daemon's health line: ${line}`);
  return Number(m[1]);
}

/** Sums of each metric, by name and label set: `name{labels}` → value. */
export async function scrapeMetrics(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Total of `name` over all its label sets. */
export function metricTotal(metrics: Map<string, number>, name: string): number {
  let sum = 0;
  for (const [key, v] of metrics) if (key === name || key.startsWith(`${name}{`)) sum += v;
  return sum;
}
