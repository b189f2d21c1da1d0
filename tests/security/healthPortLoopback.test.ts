/**
 * The health and metrics port is for the host's supervisor and scraper only: the daemon binds
 * it to 127.0.0.1. Checked three ways on the running binary: it answers on 127.0.0.1, the
 * kernel's socket table shows its listening socket bound to 127.0.0.1 (and none on IPv6), and
 * a connection to the same port on each of the machine's other addresses is refused.
 */
import { connect } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { networkInterfaces, tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, DaemonProcess } from "../helpers/runCli.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";

let h: Harness;
let cwd: string;
let daemon: DaemonProcess;
let port: number;

/** Listening sockets on `port` from /proc/net/tcp{,6}: their local addresses as the kernel writes them. */
async function listeners(file: "/proc/net/tcp" | "/proc/net/tcp6", p: number): Promise<string[]> {
  const hexPort = p.toString(16).toUpperCase().padStart(4, "0");
  const rows = (await readFile(file, "utf8")).trim().split("\n").slice(1);
  return rows
    .map((r) => r.trim().split(/\s+/))
    .filter((cols) => cols[3] === "0A" && cols[1]!.endsWith(`:${hexPort}`))
    .map((cols) => cols[1]!.split(":")[0]!);
}

function tryConnect(host: string, p: number): Promise<"connected" | string> {
  return new Promise((resolve) => {
    const s = connect({ host, port: p, timeout: 2_000 });
    s.once("connect", () => {
      s.destroy();
      resolve("connected");
    });
    s.once("timeout", () => {
      s.destroy();
      resolve("ETIMEDOUT");
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

beforeAll(async () => {
  h = await createHarness();
  cwd = await mkdtemp(path.join(tmpdir(), "celstate-health-cwd-"));
  daemon = new DaemonProcess(["watch", "--jobs-dir", h.jobsDir, "--health-port", "0"], {
    env: cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: h.token }),
    cwd,
  });
  await daemon.waitForLog('"msg":"health and metrics on 127.0.0.1"', 60_000);
  const line = daemon.stderr.split("\n").find((l) => l.includes('"msg":"health and metrics on 127.0.0.1"'))!;
  port = (JSON.parse(line) as { port: number }).port;
});
afterAll(async () => {
  await daemon.stop("SIGTERM");
  await h.cleanup();
  await rm(cwd, { recursive: true, force: true });
});

describe("health port", () => {
  it("health port › answers on 127.0.0.1 (healthz, readyz, metrics)", async () => {
    expect(port).toBeGreaterThan(0);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, { what: "ready" });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain("celstate_sync_queue_depth");
  });

  it("health port › the kernel shows its listening socket bound to 127.0.0.1 only, and nothing on IPv6", async () => {
    expect(await listeners("/proc/net/tcp", port)).toEqual(["0100007F"]);
    expect(await listeners("/proc/net/tcp6", port)).toEqual([]);
  });

  it("health port › connecting through any other local address of the machine is refused", async () => {
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined && !a.internal && !a.address.startsWith("fe80:"))
      .map((a) => a!.address);
    // Positive control: the same connect helper reaches the port through loopback.
    expect(await tryConnect("127.0.0.1", port)).toBe("connected");
    for (const address of others) expect(await tryConnect(address, port), address).toBe("ECONNREFUSED");
    if (others.length === 0)
      console.info("health port: this machine has no non-loopback address; the kernel table check above stands alone");
  });
});
