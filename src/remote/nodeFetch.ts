/**
 * The `fetch` the Convex client calls its functions through: one node:http(s) request on the
 * keep-alive global agent, the whole answer buffered into a standard `Response`. Convex function
 * calls are small JSON bodies answered by small JSON bodies, and for those the built-in fetch
 * (undici, with web streams on both sides and an AbortSignal.timeout per call) costs about twice
 * the CPU: 2,000 sequential calls to a local server in the same process, CPU per call, the
 * server's share included in both, medians of 3 rounds on Node 20: 0.70 ms against 0.34 ms. In
 * a profile of the daemon at 20 live jobs/s, fetch and its streams were a third of its CPU.
 *
 * Errors keep fetch's shapes, which the gateway and classifyError rely on: a network failure is
 * a TypeError "fetch failed" whose `cause` is node's error (with its `code`: ECONNREFUSED,
 * ECONNRESET…), the time limit a DOMException named `TimeoutError` (as AbortSignal.timeout
 * gives), and an abort by the caller's signal that signal's reason. A plain Error is what the
 * Convex client throws for a function's failure, so a network error must never be one.
 */
import http from "node:http";
import https from "node:https";

/** Statuses whose Response may carry no body (the Response constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function headersOf(init: RequestInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init?.headers).forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

function responseHeaders(res: http.IncomingMessage): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(key, v);
  }
  return headers;
}

/** A fetch for string (or absent) bodies, answering within `timeoutMs` or failing with a TimeoutError. */
export function nodeFetch(timeoutMs: number): typeof fetch {
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(input instanceof Request ? input.url : String(input));
      const body = init?.body;
      if (body !== undefined && body !== null && typeof body !== "string") {
        reject(new TypeError("nodeFetch sends string bodies only"));
        return;
      }
      const client = target.protocol === "https:" ? https : http;
      const headers = headersOf(init);
      if (body !== undefined && body !== null) headers["content-length"] = String(Buffer.byteLength(body));
      const signal = init?.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const req = client.request(target, { method: init?.method ?? "GET", headers });
      // Why the request was ended on our side, if it was: that is the answer, not the socket's error.
      let endedBy: unknown;
      const end = (why: unknown) => {
        endedBy = why;
        req.destroy();
      };
      const timer = setTimeout(() => end(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
      const onAbort = () => end(signal?.reason ?? new DOMException("aborted", "AbortError"));
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const fail = (e: unknown) => {
        done();
        reject(endedBy ?? new TypeError("fetch failed", { cause: e }));
      };
      req.once("error", fail);
      req.once("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.once("error", fail);
        res.once("aborted", () => fail(new Error("the answer was cut off")));
        res.once("end", () => {
          done();
          const status = res.statusCode ?? 0;
          const payload = NULL_BODY_STATUSES.has(status) ? null : Buffer.concat(chunks);
          resolve(new Response(payload, { status, statusText: res.statusMessage ?? "", headers: responseHeaders(res) }));
        });
      });
      req.end(body ?? undefined);
    });
}
