/**
 * Maps any raw error (from the Convex client, fetch, node:http, the file system) to a
 * `SyncError`, so call sites never classify. Function errors are recognised by their
 * `ConvexError.data.code` only: production Convex redacts message text.
 */
import { ConvexError } from "convex/values";
import { SyncError } from "./SyncError.js";

/** A non-2xx answer from the deployment's transport layer (not a function failure). */
export class HttpStatusError extends Error {
  override readonly name = "HttpStatusError";
  constructor(
    readonly status: number,
    readonly body: string,
    readonly retryAfterMs?: number,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CLOSED",
]);

function errnoCode(e: unknown): string | undefined {
  for (let cur = e, depth = 0; cur instanceof Error && depth < 5; cur = cur.cause, depth++) {
    const code = (cur as NodeJS.ErrnoException).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

export type ClassifyContext = { jobId?: string; file?: string };

export function classifyError(e: unknown, where: ClassifyContext = {}): SyncError {
  if (e instanceof SyncError) return e;
  const details = { ...where, cause: e };

  if (e instanceof ConvexError) {
    const data = (e.data ?? {}) as { code?: string; message?: string; field?: string; filename?: string };
    const text = data.message ?? String(e.message);
    switch (data.code) {
      case "UNAUTHORIZED":
        return new SyncError("UNAUTHORIZED", "the deployment refused the service token (CELSTATE_SYNC_TOKEN differs)", details);
      case "TOKEN_NOT_CONFIGURED":
        return new SyncError("TOKEN_NOT_CONFIGURED", text, details);
      case "VALUE_LIMIT":
        return new SyncError("VALUE_LIMIT", text, details);
      case "UNKNOWN_STORAGE_ID":
        return new SyncError("STORAGE_ID_UNKNOWN", text, details);
      case "MISSING_ASSET":
        return new SyncError("ASSET_MISSING", text, { ...details, file: data.filename ?? where.file });
      default:
        return new SyncError("REJECTED", `function error ${data.code ?? "(no code)"}: ${text}`, details);
    }
  }
  if (e instanceof HttpStatusError) {
    if (e.status === 408) return new SyncError("TIMEOUT", `the deployment timed out the request (${e.message})`, details);
    if (e.status === 429 || e.status >= 500) {
      return new SyncError("SERVER_ERROR", e.message, { ...details, ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }) });
    }
    if (e.status === 400 && /Sha256Mismatch/.test(e.body)) {
      // The server hashed other bytes than we did: the file changed while it was uploaded.
      return new SyncError("FILE_CHANGED", `the deployment received other bytes than were hashed (${e.message})`, details);
    }
    if (e.status === 401 && /StorageTokenExpired/.test(e.body)) {
      // An upload URL expired: a fresh one fixes it.
      return new SyncError("STORAGE_ID_UNKNOWN", `upload URL expired: ${e.message}`, details);
    }
    if (e.status === 401 || e.status === 403) return new SyncError("UNAUTHORIZED", e.message, details);
    return new SyncError("REJECTED", e.message, details);
  }
  if (e instanceof Error) {
    if (e.name === "TimeoutError") return new SyncError("TIMEOUT", e.message, details);
    if (e.name === "AbortError") return new SyncError("TIMEOUT", `request aborted: ${e.message}`, details);
    const code = errnoCode(e);
    if (code === "ENOENT") return new SyncError("JOB_VANISHED", e.message, details);
    if (code === "EACCES" || code === "EPERM" || code === "EISDIR") return new SyncError("FILE_UNREADABLE", e.message, details);
    if ((code !== undefined && NETWORK_CODES.has(code)) || (e instanceof TypeError && /fetch failed/i.test(e.message))) {
      return new SyncError("NETWORK", `${e.message}${code ? ` (${code})` : ""}`, details);
    }
    // A function failure without ConvexError data ("Server Error"): our functions always
    // attach a code, so this is an uncaught failure inside the deployment.
    if (/Server Error/.test(e.message)) return new SyncError("REJECTED", e.message, details);
  }
  return new SyncError("REJECTED", e instanceof Error ? e.message : String(e), details);
}

/** Errors that say the deployment itself is unreachable or overloaded (not this job's fault). */
export function isBackendDown(e: unknown): boolean {
  const s = e instanceof SyncError ? e : classifyError(e);
  return s.code === "NETWORK" || s.code === "TIMEOUT" || s.code === "SERVER_ERROR";
}
