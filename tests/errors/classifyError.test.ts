import { ConvexError } from "convex/values";
import { describe, expect, it } from "vitest";
import { classifyError, HttpStatusError, isBackendDown } from "../../src/errors/classifyError.js";
import { SyncError } from "../../src/errors/SyncError.js";

const errno = (code: string) => Object.assign(new Error(`boom ${code}`), { code });

describe("classifyError", () => {
  it.each([
    ["a function refusing the token", new ConvexError({ code: "UNAUTHORIZED", message: "x" }), "UNAUTHORIZED", "fatal"],
    ["a deployment without the token set", new ConvexError({ code: "TOKEN_NOT_CONFIGURED", message: "x" }), "TOKEN_NOT_CONFIGURED", "fatal"],
    ["a record over a limit", new ConvexError({ code: "VALUE_LIMIT", message: "x", field: "prompt" }), "VALUE_LIMIT", "invalid-local-data"],
    ["a collected blob", new ConvexError({ code: "UNKNOWN_STORAGE_ID", message: "x" }), "STORAGE_ID_UNKNOWN", "transient"],
    ["a missing asset", new ConvexError({ code: "MISSING_ASSET", message: "x", filename: "a.png" }), "ASSET_MISSING", "invalid-local-data"],
    ["an unknown function code", new ConvexError({ code: "SOMETHING_NEW", message: "x" }), "REJECTED", "invalid-local-data"],
    ["HTTP 503", new HttpStatusError(503, "overloaded"), "SERVER_ERROR", "transient"],
    ["HTTP 429", new HttpStatusError(429, "busy", 2000), "SERVER_ERROR", "transient"],
    ["HTTP 500", new HttpStatusError(500, "internal"), "SERVER_ERROR", "transient"],
    ["HTTP 408", new HttpStatusError(408, "timeout"), "TIMEOUT", "transient"],
    ["HTTP 400 digest mismatch", new HttpStatusError(400, '{"code":"Sha256Mismatch"}'), "FILE_CHANGED", "transient"],
    ["HTTP 401 expired upload URL", new HttpStatusError(401, '{"code":"StorageTokenExpired"}'), "STORAGE_ID_UNKNOWN", "transient"],
    ["HTTP 401", new HttpStatusError(401, "bad key"), "UNAUTHORIZED", "fatal"],
    ["HTTP 400", new HttpStatusError(400, '{"code":"BadJsonBody"}'), "REJECTED", "invalid-local-data"],
    ["ECONNREFUSED", errno("ECONNREFUSED"), "NETWORK", "transient"],
    ["ECONNRESET under fetch", new TypeError("fetch failed", { cause: errno("ECONNRESET") }), "NETWORK", "transient"],
    ["a timeout", Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" }), "TIMEOUT", "transient"],
    ["ENOENT", errno("ENOENT"), "JOB_VANISHED", "transient"],
    ["EACCES", errno("EACCES"), "FILE_UNREADABLE", "invalid-local-data"],
    ["an uncaught function failure", new Error("[Request ID: 1] Server Error"), "REJECTED", "invalid-local-data"],
  ])("classifyError › %s", (_name, raw, code, kind) => {
    const e = classifyError(raw, { jobId: "j1" });
    expect(e).toBeInstanceOf(SyncError);
    expect(e.code).toBe(code);
    expect(e.kind).toBe(kind);
    expect(e.jobId).toBe("j1");
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

  it("isBackendDown › only for unreachable or overloaded deployments", () => {
    expect(isBackendDown(errno("ECONNREFUSED"))).toBe(true);
    expect(isBackendDown(new HttpStatusError(503, ""))).toBe(true);
    expect(isBackendDown(new ConvexError({ code: "VALUE_LIMIT", message: "" }))).toBe(false);
    expect(isBackendDown(errno("ENOENT"))).toBe(false);
  });
});
