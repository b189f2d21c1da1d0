/**
 * The registry of every error code celstate-sync reports: its kind, whether it earns a failure
 * marker, and what it means. The README's error table is checked against this list by a test,
 * so the two stay in step. This table is the only place that decides whether an error marks a
 * job: the engine reads the `marker` column and nothing else.
 *
 * Kinds (what the engine does with the job):
 * - `fatal`: the daemon itself is misconfigured (bad config, wrong token, functions not
 *   deployed); nothing will work until an operator acts. The command exits 2.
 * - `outage`: the deployment as a whole did not answer or is not running (paused, disabled,
 *   over its quota). Once one health check confirms it, the queue runs one probe at a time and
 *   the jobs wait without spending attempts.
 * - `transient`: this request failed but the next may not (a 429, an OCC conflict, a file still
 *   being written); retried for this job with backoff.
 * - `internal`: nobody expected this error: a bug in the daemon or in the deployment. Logged
 *   once with its stack, retried with backoff like a transient error, counted, never marked.
 * - `invalid-local-data`: this job's files cannot be synced as they are; not retried until the
 *   files change (or `celstate-sync retry`).
 *
 * Markers (`marker`): `yes`, the job's own data is at fault and job.json says so; `after
 * retries`, the error is the job's own but may pass (a file that keeps changing): only when it
 * went on past the retry limits does the job get a RETRIES_EXHAUSTED marker; `no`, never.
 */
export type ErrorKind = "fatal" | "outage" | "transient" | "internal" | "invalid-local-data";
export type MarkerRule = "yes" | "after retries" | "no";

type Entry = { kind: ErrorKind; marker: MarkerRule; text: string };

export const ERROR_CODES = {
  CONFIG_INVALID: { kind: "fatal", marker: "no", text: "a configuration value is missing or out of range" },
  CONVEX_URL_MISSING: { kind: "fatal", marker: "no", text: "no Convex deployment URL was given" },
  TOKEN_MISSING: { kind: "fatal", marker: "no", text: "no service token (CELSTATE_SYNC_TOKEN) was given" },
  UNAUTHORIZED: { kind: "fatal", marker: "no", text: "the deployment refused the service token" },
  TOKEN_NOT_CONFIGURED: { kind: "fatal", marker: "no", text: "the deployment has no CELSTATE_SYNC_TOKEN set" },
  API_MISMATCH: { kind: "fatal", marker: "no", text: "the deployment answers, but its functions are missing or speak another API version" },
  LOCKED: { kind: "fatal", marker: "no", text: "another celstate-sync already runs on this jobs folder" },
  JOBS_DIR_UNREADABLE: { kind: "fatal", marker: "no", text: "the jobs folder does not exist or cannot be read" },
  LOCK_UNWRITABLE: {
    kind: "fatal",
    marker: "no",
    text: "the instance lock cannot be created in the jobs folder (the service user may not write there)",
  },
  HEALTH_PORT_UNAVAILABLE: {
    kind: "fatal",
    marker: "no",
    text: "the health and metrics port cannot be listened on (in use, or not allowed)",
  },
  NODE_TOO_OLD: { kind: "fatal", marker: "no", text: "the Node.js running celstate-sync is older than 20.19" },
  ROOT_REQUIRED: { kind: "fatal", marker: "no", text: "doctor --as-user checks as another user, which only root can do" },
  NO_SUCH_JOB: { kind: "fatal", marker: "no", text: "a job named on the command line has no folder in the jobs folder" },
  USER_UNKNOWN: { kind: "fatal", marker: "no", text: "the user named with doctor --as-user does not exist on this host" },

  NETWORK: { kind: "outage", marker: "no", text: "the deployment could not be reached" },
  TIMEOUT: { kind: "outage", marker: "no", text: "the deployment did not answer within the configured timeout" },
  BACKEND_NOT_RUNNING: { kind: "outage", marker: "no", text: "the deployment is not running (paused, disabled or over its usage limits)" },
  SERVER_ERROR: {
    kind: "outage",
    marker: "no",
    text: 'a server error (5xx) or a function failure without error data ("Server Error", what a paused deployment answers)',
  },

  OVERLOADED: {
    kind: "transient",
    marker: "no",
    text: "the deployment asked to retry this request (429, an OCC conflict, a request or system timeout)",
  },
  FILE_SETTLING: { kind: "transient", marker: "no", text: "a file is still being written; it is synced once it stops changing" },
  FILE_CHANGED: { kind: "transient", marker: "after retries", text: "a file changed while it was being uploaded" },
  JOB_VANISHED: { kind: "transient", marker: "no", text: "the job folder or job.json disappeared while it was being read" },
  STORAGE_ID_UNKNOWN: {
    kind: "transient",
    marker: "no",
    text: "an upload URL or blob was gone (expired or collected); a fresh one is taken",
  },
  FILE_UNREADABLE: {
    kind: "transient",
    marker: "no",
    text: "a file exists but this user may not read it (check the service user's permissions)",
  },
  STUCK: {
    kind: "transient",
    marker: "no",
    text: "errors that are not the job's own went on past the retry limits; still retried, at the slowest pace",
  },

  INTERNAL: { kind: "internal", marker: "no", text: "an error nobody classified (a bug): logged with its stack and retried, never marked" },

  JOB_JSON_UNPARSABLE: {
    kind: "invalid-local-data",
    marker: "no",
    text: "job.json is not valid JSON (Python's NaN/Infinity allowed); never rewritten",
  },
  JOB_JSON_INVALID: { kind: "invalid-local-data", marker: "no", text: "job.json does not match JobRecord.v1; never rewritten" },
  JOB_ID_MISMATCH: { kind: "invalid-local-data", marker: "no", text: "the record's id differs from its folder name; never rewritten" },
  UPLOAD_TOO_SLOW: {
    kind: "invalid-local-data",
    marker: "no",
    text: "a file's upload timed out, and at the rate uploads reach it could not make it within uploadTimeoutMs or the deployment's cut (Convex allows 2 minutes); tried again when it changes or the daemon restarts",
  },
  UNSAFE_PATH: {
    kind: "invalid-local-data",
    marker: "yes",
    text: "a file is a symlink, not a regular file, or leads outside its job folder",
  },
  ASSET_MISSING: { kind: "invalid-local-data", marker: "yes", text: "a finished job lists an asset whose file does not exist" },
  VALUE_LIMIT: {
    kind: "invalid-local-data",
    marker: "yes",
    text: "the record breaks a Convex limit (size, nesting, array length, field name)",
  },
  REJECTED: {
    kind: "invalid-local-data",
    marker: "yes",
    text: "a function refused an argument for this job's own values (INVALID_ARGUMENT naming the job)",
  },
  RETRIES_EXHAUSTED: {
    kind: "invalid-local-data",
    marker: "yes",
    text: "errors of the job's own (a file that keeps changing) went on past the retry limits",
  },
} as const satisfies Record<string, Entry>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function kindOf(code: ErrorCode): ErrorKind {
  return ERROR_CODES[code].kind;
}

export function markerRuleOf(code: ErrorCode): MarkerRule {
  return ERROR_CODES[code].marker;
}
