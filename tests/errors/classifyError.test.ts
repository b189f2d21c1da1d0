import { ConvexError } from "convex/values";
import { describe, expect, it } from "vitest";
import { classifyError, FunctionFailure, HttpStatusError, isOutage } from "../../src/errors/classifyError.js";
import { ERROR_CODES, markerRuleOf } from "../../src/errors/codes.js";
import { SyncError } from "../../src/errors/SyncError.js";

const errno = (code: string) => Object.assign(new Error(`boom ${code}`), { code });
const body = (code: string) => JSON.stringify({ code, message: `${code} happened` });

describe("classifyError", () => {
  it("classifyError › TOKEN_NOT_CONFIGURED tells the operator to set the token on the production deployment (--prod)", () => {
    const e = classifyError(new ConvexError({ code: "TOKEN_NOT_CONFIGURED", message: "an older deployment's words" }));
    expect(e.message).toContain("npx convex env set CELSTATE_SYNC_TOKEN <token> --prod");
    expect(e.message).not.toContain("older deployment");
  });

  it.each([
    ["a function refusing the token", new ConvexError({ code: "UNAUTHORIZED", message: "x" }), "UNAUTHORIZED", "fatal"],
    [
      "a deployment without the token set",
      new ConvexError({ code: "TOKEN_NOT_CONFIGURED", message: "x" }),
      "TOKEN_NOT_CONFIGURED",
      "fatal",
    ],
    ["a record over a limit", new ConvexError({ code: "VALUE_LIMIT", message: "x", field: "prompt" }), "VALUE_LIMIT", "invalid-local-data"],
    ["a collected blob", new ConvexError({ code: "UNKNOWN_STORAGE_ID", message: "x" }), "STORAGE_ID_UNKNOWN", "transient"],
    ["a missing asset", new ConvexError({ code: "MISSING_ASSET", message: "x", filename: "a.png" }), "ASSET_MISSING", "invalid-local-data"],
    [
      "an argument refused for the job's value",
      new ConvexError({ code: "INVALID_ARGUMENT", message: "x", jobId: "j1" }),
      "REJECTED",
      "invalid-local-data",
    ],
    ["an argument refused that names no job", new ConvexError({ code: "INVALID_ARGUMENT", message: "batch" }), "INTERNAL", "internal"],
    ["an unknown function code", new ConvexError({ code: "SOMETHING_NEW", message: "x" }), "INTERNAL", "internal"],
    ["HTTP 503 overloaded", new HttpStatusError(503, "overloaded"), "SERVER_ERROR", "outage"],
    ["HTTP 503 OCC", new HttpStatusError(503, body("OptimisticConcurrencyControlFailure")), "OVERLOADED", "transient"],
    ["HTTP 429 concurrency", new HttpStatusError(429, body("TooManyConcurrentRequests"), 2000), "OVERLOADED", "transient"],
    ["HTTP 500", new HttpStatusError(500, "internal"), "SERVER_ERROR", "outage"],
    ["HTTP 408", new HttpStatusError(408, "timeout"), "OVERLOADED", "transient"],
    ["HTTP 400 BackendIsNotRunning", new HttpStatusError(400, body("BackendIsNotRunning")), "BACKEND_NOT_RUNNING", "outage"],
    ["HTTP 400 SystemTimeoutError", new HttpStatusError(400, body("SystemTimeoutError")), "OVERLOADED", "transient"],
    ["HTTP 400 digest mismatch", new HttpStatusError(400, body("Sha256Mismatch")), "FILE_CHANGED", "transient"],
    ["HTTP 401 expired upload URL", new HttpStatusError(401, body("StorageTokenExpired")), "STORAGE_ID_UNKNOWN", "transient"],
    ["HTTP 401 invalid upload token", new HttpStatusError(401, body("StorageTokenInvalid")), "STORAGE_ID_UNKNOWN", "transient"],
    ["HTTP 401 bad upload token", new HttpStatusError(401, body("InvalidStorageToken")), "STORAGE_ID_UNKNOWN", "transient"],
    ["HTTP 401", new HttpStatusError(401, "bad key"), "UNAUTHORIZED", "fatal"],
    ["HTTP 404 function path", new HttpStatusError(404, body("FunctionPathNotFound")), "API_MISMATCH", "fatal"],
    ["HTTP 400 bad JSON", new HttpStatusError(400, body("BadJsonBody")), "INTERNAL", "internal"],
    ["ECONNREFUSED", errno("ECONNREFUSED"), "NETWORK", "outage"],
    ["ECONNRESET under fetch", new TypeError("fetch failed", { cause: errno("ECONNRESET") }), "NETWORK", "outage"],
    ["a timeout", Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" }), "TIMEOUT", "outage"],
    ["ENOENT", errno("ENOENT"), "JOB_VANISHED", "transient"],
    ["EACCES", errno("EACCES"), "FILE_UNREADABLE", "transient"],
    [
      "a paused deployment's function answer",
      new FunctionFailure("sync:commit", "[Request ID: 1a2b] Server Error"),
      "SERVER_ERROR",
      "outage",
    ],
    [
      "a missing function",
      new FunctionFailure("sync:handshake", "[Request ID: 1] Server Error\nCould not find public function for 'sync:handshake'."),
      "API_MISMATCH",
      "fatal",
    ],
    [
      "an argument validation failure",
      new FunctionFailure("sync:commit", "ArgumentValidationError: Object is missing the required field `x`"),
      "INTERNAL",
      "internal",
    ],
    ["a TypeError (a bug of ours)", new TypeError("Cannot read properties of undefined (reading 'role')"), "INTERNAL", "internal"],
    ["the planner's invariant error", new Error("planJob: j1/outputs/a.png needs a hash (see filesNeedingHash)"), "INTERNAL", "internal"],
    ["a SyntaxError parsing an upload reply", new SyntaxError("Unexpected token < in JSON at position 0"), "INTERNAL", "internal"],
    ["a thrown string", "boom", "INTERNAL", "internal"],
  ])("classifyError › %s", (_name, raw, code, kind) => {
    const e = classifyError(raw, { jobId: "j1" });
    expect(e).toBeInstanceOf(SyncError);
    expect(e.code).toBe(code);
    expect(e.kind).toBe(kind);
    expect(e.jobId).toBe("j1");
  });

  it("classifyError › nothing a bug or the deployment raises earns a marker", () => {
    const notTheJobs = [
      new TypeError("x is undefined"),
      new SyntaxError("bad JSON"),
      new Error("planJob: invariant"),
      new FunctionFailure("sync:commit", "[Request ID: 9] Server Error"),
      new HttpStatusError(400, body("BackendIsNotRunning")),
      new HttpStatusError(400, body("SystemTimeoutError")),
      new HttpStatusError(503, body("OptimisticConcurrencyControlFailure")),
      new HttpStatusError(429, body("TooManyConcurrentRequests")),
      new HttpStatusError(502, "bad gateway"),
      errno("ECONNREFUSED"),
      errno("EACCES"),
    ];
    for (const raw of notTheJobs) expect(markerRuleOf(classifyError(raw).code), String(raw)).toBe("no");
  });

  it("classifyError › keeps the server's Retry-After and the original as cause", () => {
    const raw = new HttpStatusError(429, "busy", 2000);
    const e = classifyError(raw);
    expect(e.retryAfterMs).toBe(2000);
    expect(e.cause).toBe(raw);
  });

  it("classifyError › returns a SyncError unchanged", () => {
    const s = new SyncError("UNSAFE_PATH", "x");
    expect(classifyError(s)).toBe(s);
  });

  it("isOutage › for an unreachable or not-running deployment, not for one busy request", () => {
    expect(isOutage(errno("ECONNREFUSED"))).toBe(true);
    expect(isOutage(new HttpStatusError(400, body("BackendIsNotRunning")))).toBe(true);
    expect(isOutage(new FunctionFailure("sync:getStates", "[Request ID: 1] Server Error"))).toBe(true);
    expect(isOutage(new HttpStatusError(429, body("TooManyConcurrentRequests")))).toBe(false);
    expect(isOutage(new HttpStatusError(503, body("OptimisticConcurrencyControlFailure")))).toBe(false);
    expect(isOutage(new ConvexError({ code: "VALUE_LIMIT", message: "" }))).toBe(false);
    expect(isOutage(errno("ENOENT"))).toBe(false);
  });

  it("error registry › markers only for the job's own data, and only invalid-local-data codes mark at once", () => {
    const marking = Object.entries(ERROR_CODES)
      .filter(([, v]) => v.marker === "yes")
      .map(([k]) => k)
      .sort();
    expect(marking).toEqual(["ASSET_MISSING", "REJECTED", "RETRIES_EXHAUSTED", "UNSAFE_PATH", "VALUE_LIMIT"]);
    for (const [code, v] of Object.entries(ERROR_CODES)) {
      if (v.marker === "yes") expect(v.kind, code).toBe("invalid-local-data");
      if (v.kind === "fatal" || v.kind === "outage" || v.kind === "internal") expect(v.marker, code).toBe("no");
    }
  });
});
