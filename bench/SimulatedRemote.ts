/**
 * A simulated deployment for the "history at scale" scenario, named as such in BENCHMARKS.md:
 * an HTTP server in front of the stand-in that answers `sync:getStates` for the jobs of the
 * scale history (scaleHistory.ts) from their ids alone, computing each state as a deployment
 * holding the job in sync would store it, and passes every other request, and the states of
 * any other job, to the stand-in behind it. The in-memory stand-in cannot hold a million jobs
 * cheaply; this store holds nothing per job, so what is timed is the daemon.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { buffer } from "node:stream/consumers";
import type { RemoteJobState } from "../src/remote/ConvexGateway.js";
import { isScaleJobId, scaleJobState } from "./scaleHistory.js";

const GET_STATES = new Set(["sync:getStates", "sync.js:getStates", "sync/getStates"]);

export class SimulatedRemote {
  /** Time spent computing states, ms: the simulation's own share of a start-up. */
  busyMs = 0;
  statesServed = 0;

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
  ) {}

  static async start(upstreamUrl: string): Promise<SimulatedRemote> {
    let remote: SimulatedRemote | null = null;
    const server = createServer((req, res) => {
      remote!.handle(req, res).catch((e: unknown) => {
        // A broken connection to the stand-in: what a deployment behind a failing proxy answers.
        if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
        res.end(String((e as Error).message));
      });
    });
    remote = new SimulatedRemote(server, new URL(upstreamUrl));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return remote;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await buffer(req);
    if (req.method === "POST" && req.url?.startsWith("/api/query")) {
      const parsed = JSON.parse(body.toString("utf8")) as { path: string; args: unknown; format?: string };
      if (GET_STATES.has(parsed.path)) {
        const args = (Array.isArray(parsed.args) ? parsed.args[0] : parsed.args) as { serviceToken: string; jobIds: string[] };
        const ours = args.jobIds.filter(isScaleJobId);
        if (ours.length > 0) return await this.answerStates(req, res, parsed, args, ours);
      }
    }
    const answer = await this.forward(req, body);
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  /** The scale jobs' states computed here, any other job's asked of the stand-in, in the order asked. */
  private async answerStates(
    req: IncomingMessage,
    res: ServerResponse,
    parsed: { path: string; args: unknown; format?: string },
    args: { serviceToken: string; jobIds: string[] },
    ours: string[],
  ): Promise<void> {
    const others = args.jobIds.filter((id) => !isScaleJobId(id));
    const theirs = new Map<string, RemoteJobState | null>();
    if (others.length > 0) {
      const forwarded = { ...parsed, args: [{ ...args, jobIds: others }] };
      const answer = await this.forward(req, Buffer.from(JSON.stringify(forwarded)));
      const reply = JSON.parse(answer.body.toString("utf8")) as { status: string; value?: Array<RemoteJobState | null> };
      // The stand-in's refusal (a wrong token, say) is the answer, as it would be.
      if (reply.status !== "success") {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
        return;
      }
      for (const [k, id] of others.entries()) theirs.set(id, reply.value![k] ?? null);
    }
    const started = performance.now();
    const states = args.jobIds.map((id) => (isScaleJobId(id) ? scaleJobState(id) : (theirs.get(id) ?? null)));
    this.busyMs += performance.now() - started;
    this.statesServed += ours.length;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: "success", value: states, logLines: [] }));
  }

  private async forward(req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const target = new URL(req.url ?? "/", this.upstream);
    return await new Promise((resolve, reject) => {
      const { "transfer-encoding": _chunked, ...headers } = req.headers;
      const sent = { ...headers, host: target.host, "content-length": String(body.length) };
      const out = request(target, { method: req.method, headers: sent }, (answer) => {
        buffer(answer).then((data) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(answer.headers)) if (typeof v === "string") headers[k] = v;
          resolve({ status: answer.statusCode ?? 502, headers, body: data });
        }, reject);
      });
      out.on("error", reject);
      out.end(body);
    });
  }
}
