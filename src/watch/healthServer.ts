/**
 * The optional local HTTP port: `/healthz` (the process is alive), `/readyz` (start-up
 * reconcile done and Convex reachable) and `/metrics` (Prometheus text). Bound to 127.0.0.1
 * only: it is for the host's supervisor and scraper, never for the network.
 */
import { SyncError } from "../errors/SyncError.js";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export type HealthState = { ready: () => boolean; backendUp: () => boolean };

export type HealthServer = { port: number; close: () => Promise<void> };

export async function startHealthServer(port: number, registry: Registry, state: HealthState): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") {
      res.writeHead(405).end();
      return;
    }
    if (url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (url === "/readyz") {
      const ready = state.ready();
      const up = state.backendUp();
      const ok = ready && up;
      res
        .writeHead(ok ? 200 : 503, { "content-type": "text/plain" })
        .end(ok ? "ready\n" : `not ready: ${!ready ? "start-up reconcile running" : "Convex unreachable"}\n`);
    } else if (url === "/metrics") {
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "EADDRINUSE" || e.code === "EACCES"
          ? new SyncError(
              "HEALTH_PORT_UNAVAILABLE",
              `cannot listen on 127.0.0.1:${port} for health and metrics: ${e.code === "EADDRINUSE" ? "the port is in use (another celstate-sync, or another program)" : "permission denied"}; choose another --health-port / healthPort`,
              { cause: e },
            )
          : e,
      ),
    );
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
