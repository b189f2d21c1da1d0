/**
 * The one error type celstate-sync raises on purpose: a stable `code` from the registry, the
 * `kind` that decides retrying, the job and file it concerns, and the original error as `cause`.
 */
import { ERROR_CODES, type ErrorCode, type ErrorKind } from "./codes.js";

export type SyncErrorDetails = {
  jobId?: string;
  file?: string;
  /** Seconds the server asked us to wait (429 Retry-After), when known. */
  retryAfterMs?: number;
  cause?: unknown;
};

export class SyncError extends Error {
  override readonly name = "SyncError";
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly jobId: string | undefined;
  readonly file: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, details: SyncErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.kind = ERROR_CODES[code].kind;
    this.jobId = details.jobId;
    this.file = details.file;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** Retried by the engine (outage, transient and internal errors); the rest are final. */
  get retryable(): boolean {
    return this.kind === "transient" || this.kind === "outage" || this.kind === "internal";
  }

  /** One line for logs and failure markers: `[CODE] job …: file …: message`. */
  describe(): string {
    const where = [this.jobId && `job ${this.jobId}`, this.file && `file ${this.file}`].filter(Boolean).join(", ");
    return `[${this.code}] ${where ? `${where}: ` : ""}${this.message}`;
  }
}

export function isSyncError(e: unknown): e is SyncError {
  return e instanceof SyncError;
}
