/**
 * The registry of every error code celstate-sync reports, with its kind and what it means.
 * The README's error table is checked against this list by a test, so the two stay in step.
 *
 * Kinds:
 * - `transient`: the network, the backend or a file still being written; retried with backoff.
 * - `invalid-local-data`: this job's files cannot be synced as they are; not retried until the
 *   files change (or `celstate-sync retry`), and the job gets a failure marker.
 * - `fatal`: the daemon itself is misconfigured (bad config, wrong token); nothing will work
 *   until an operator acts.
 */
export type ErrorKind = "transient" | "invalid-local-data" | "fatal";

export const ERROR_CODES = {
  CONFIG_INVALID: { kind: "fatal", text: "a configuration value is missing or out of range" },
  CONVEX_URL_MISSING: { kind: "fatal", text: "no Convex deployment URL was given" },
  TOKEN_MISSING: { kind: "fatal", text: "no service token (CELSTATE_SYNC_TOKEN) was given" },
  UNAUTHORIZED: { kind: "fatal", text: "the deployment refused the service token" },
  TOKEN_NOT_CONFIGURED: { kind: "fatal", text: "the deployment has no CELSTATE_SYNC_TOKEN set" },
  API_MISMATCH: { kind: "fatal", text: "the deployed functions are not the ones this version expects" },
  LOCKED: { kind: "fatal", text: "another celstate-sync already runs on this jobs folder" },
  JOBS_DIR_UNREADABLE: { kind: "fatal", text: "the jobs folder cannot be read" },

  NETWORK: { kind: "transient", text: "the deployment could not be reached" },
  TIMEOUT: { kind: "transient", text: "a request took longer than the configured timeout" },
  SERVER_ERROR: { kind: "transient", text: "the deployment answered with a server error (5xx) or was overloaded (429)" },
  FILE_SETTLING: { kind: "transient", text: "a file is still being written; it is synced once it stops changing" },
  FILE_CHANGED: { kind: "transient", text: "a file changed while it was being uploaded" },
  JOB_VANISHED: { kind: "transient", text: "the job folder or job.json disappeared while it was being read" },
  STORAGE_ID_UNKNOWN: { kind: "transient", text: "an uploaded blob was gone at commit time (collected or expired); re-uploaded" },

  JOB_JSON_UNPARSABLE: { kind: "invalid-local-data", text: "job.json is not valid JSON (Python's NaN/Infinity allowed)" },
  JOB_JSON_INVALID: { kind: "invalid-local-data", text: "job.json does not match JobRecord.v1" },
  JOB_ID_MISMATCH: { kind: "invalid-local-data", text: "the record's id differs from its folder name" },
  UNSAFE_PATH: { kind: "invalid-local-data", text: "a file is a symlink, not a regular file, or leads outside its job folder" },
  FILE_UNREADABLE: { kind: "invalid-local-data", text: "a file exists but cannot be read" },
  ASSET_MISSING: { kind: "invalid-local-data", text: "a settled job lists an asset whose file does not exist" },
  VALUE_LIMIT: { kind: "invalid-local-data", text: "the record breaks a Convex limit (size, nesting, array length, field name)" },
  REJECTED: { kind: "invalid-local-data", text: "the deployment refused the data permanently (4xx or a function error)" },
  RETRIES_EXHAUSTED: { kind: "invalid-local-data", text: "transient errors went on past the configured attempts or time" },
} as const satisfies Record<string, { kind: ErrorKind; text: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
