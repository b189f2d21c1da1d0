/**
 * Maps any raw error (from the Convex client, fetch, node:http, the file system, our own code)
 * to a `SyncError`, so call sites never classify. Function errors are recognised by their
 * `ConvexError.data.code`: production Convex redacts message text. What nobody recognises is
 * `INTERNAL`, never a problem of the job's data: a failure marker rewrites the pipeline's own
 * record, so it is written only for codes the registry says are the job's own.
 */
import { ConvexError, type Value } from "convex/values";
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

  /** The `code` of a Convex transport error body (`{"code","message"}`), if it has one. */
  get bodyCode(): string | undefined {
    try {
      const parsed = JSON.parse(this.body) as { code?: unknown };
      return typeof parsed.code === "string" ? parsed.code : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * A function call that failed without `ConvexError` data: the client's plain `Error` carrying
 * the server's `errorMessage`, wrapped by the gateway so it cannot be mistaken for a bug of ours.
 * A paused, disabled or over-quota deployment answers every call like this
 * (`[Request ID: …] Server Error`), and so does an uncaught system error inside a function.
 */
export class FunctionFailure extends Error {
  override readonly name = "FunctionFailure";
  constructor(
    readonly functionName: string,
    serverMessage: string,
  ) {
    super(`${functionName}: ${serverMessage}`);
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

/** Upload-URL token problems (keybroker): a fresh URL fixes every one of them. */
const STORAGE_TOKEN_CODES = new Set(["StorageTokenExpired", "StorageTokenInvalid", "InvalidStorageToken"]);

function errnoCode(e: unknown): string | undefined {
  for (let cur = e, depth = 0; cur instanceof Error && depth < 5; cur = cur.cause, depth++) {
    const code = (cur as NodeJS.ErrnoException).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

export const TOKEN_NOT_CONFIGURED_HINT =
  "the deployment has no CELSTATE_SYNC_TOKEN; set it with `npx convex env set CELSTATE_SYNC_TOKEN <token> --prod` (without --prod the CLI sets it on the dev deployment), the same value this machine uses";

export type ClassifyContext = { jobId?: string; file?: string };

function fromFunctionCode(e: ConvexError<Value>, details: ClassifyContext & { cause: unknown }, where: ClassifyContext): SyncError {
  const data = (e.data ?? {}) as { code?: string; message?: string; field?: string; filename?: string; jobId?: string };
  const text = data.message ?? String(e.message);
  switch (data.code) {
    case "UNAUTHORIZED":
      return new SyncError("UNAUTHORIZED", "the deployment refused the service token (CELSTATE_SYNC_TOKEN differs)", details);
    case "TOKEN_NOT_CONFIGURED":
      // Our own words, not the deployment's: an older deployment's message lacks the --prod hint.
      return new SyncError("TOKEN_NOT_CONFIGURED", TOKEN_NOT_CONFIGURED_HINT, details);
    case "VALUE_LIMIT":
      return new SyncError("VALUE_LIMIT", text, details);
    case "UNKNOWN_STORAGE_ID":
      return new SyncError("STORAGE_ID_UNKNOWN", text, details);
    case "MISSING_ASSET":
      return new SyncError("ASSET_MISSING", text, { ...details, file: data.filename ?? where.file });
    case "INVALID_ARGUMENT":
      // Our functions name the job when it is the job's own value they refuse; an argument
      // without a job (a batch size) is a bug on this side.
      if (typeof data.jobId === "string") return new SyncError("REJECTED", text, details);
      return new SyncError("INTERNAL", `the deployment refused an argument: ${text}`, details);
    default:
      return new SyncError("INTERNAL", `function error ${data.code ?? "(no code)"}: ${text}`, details);
  }
}

function fromHttpStatus(e: HttpStatusError, details: ClassifyContext & { cause: unknown }): SyncError {
  const code = e.bodyCode;
  const retry = e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs };
  if (code === "BackendIsNotRunning") return new SyncError("BACKEND_NOT_RUNNING", e.message, details);
  if (code === "SystemTimeoutError" || code === "TooManyConcurrentRequests" || code === "OptimisticConcurrencyControlFailure") {
    return new SyncError("OVERLOADED", e.message, { ...details, ...retry });
  }
  if (e.status === 408 || e.status === 429) return new SyncError("OVERLOADED", e.message, { ...details, ...retry });
  if (e.status >= 500) return new SyncError("SERVER_ERROR", e.message, { ...details, ...retry });
  // The server hashed other bytes than we did: the file changed while it was uploaded.
  if (code === "Sha256Mismatch")
    return new SyncError("FILE_CHANGED", `the deployment received other bytes than were hashed (${e.message})`, details);
  if (code !== undefined && STORAGE_TOKEN_CODES.has(code))
    return new SyncError("STORAGE_ID_UNKNOWN", `upload URL no longer valid: ${e.message}`, details);
  if (code === "FunctionPathNotFound") return new SyncError("API_MISMATCH", `a function is missing: ${e.message}`, details);
  if (e.status === 401 || e.status === 403) return new SyncError("UNAUTHORIZED", e.message, details);
  // Any other 4xx: we sent something the deployment cannot take. Not the job's data: ours.
  return new SyncError("INTERNAL", e.message, details);
}

function fromFunctionFailure(e: FunctionFailure, details: ClassifyContext & { cause: unknown }): SyncError {
  // Developer errors keep their text in production too (convex-backend udf/src/validation.rs).
  if (/Could not find public function/.test(e.message)) {
    return new SyncError("API_MISMATCH", `${e.message} (deploy this version's convex/ with \`npx convex deploy\`)`, details);
  }
  if (/ArgumentValidationError|ReturnsValidationError|Validator error/.test(e.message)) {
    return new SyncError("INTERNAL", `the deployed functions refused the call's shape: ${e.message}`, details);
  }
  return new SyncError("SERVER_ERROR", e.message, details);
}

export function classifyError(e: unknown, where: ClassifyContext = {}): SyncError {
  if (e instanceof SyncError) return e;
  const details = { ...where, cause: e };
  if (e instanceof ConvexError) return fromFunctionCode(e, details, where);
  if (e instanceof HttpStatusError) return fromHttpStatus(e, details);
  if (e instanceof FunctionFailure) return fromFunctionFailure(e, details);
  if (e instanceof Error) {
    if (e.name === "TimeoutError") return new SyncError("TIMEOUT", e.message, details);
    if (e.name === "AbortError") return new SyncError("TIMEOUT", `request aborted: ${e.message}`, details);
    const code = errnoCode(e);
    if (code === "ENOENT") return new SyncError("JOB_VANISHED", e.message, details);
    if (code === "EACCES" || code === "EPERM" || code === "EISDIR") return new SyncError("FILE_UNREADABLE", e.message, details);
    if ((code !== undefined && NETWORK_CODES.has(code)) || (e instanceof TypeError && /fetch failed/i.test(e.message))) {
      return new SyncError("NETWORK", `${e.message}${code ? ` (${code})` : ""}`, details);
    }
  }
  return new SyncError("INTERNAL", e instanceof Error ? `${e.name}: ${e.message}` : String(e), details);
}

/** Errors that may mean the deployment as a whole is unreachable or not running (to be confirmed by a health check). */
export function isOutage(e: unknown): boolean {
  return classifyError(e).kind === "outage";
}
