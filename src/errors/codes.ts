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

// One constructor per kind, so that each code reads on one line. Only the job's own data can
// earn a marker: the kinds about the daemon or the deployment never mark, a transient error
// marks only "after retries" when it says so, and invalid local data always says which.
const fatal = (text: string): Entry => ({ kind: "fatal", marker: "no", text });
const outage = (text: string): Entry => ({ kind: "outage", marker: "no", text });
const transient = (text: string, marker: "no" | "after retries" = "no"): Entry => ({ kind: "transient", marker, text });
const internal = (text: string): Entry => ({ kind: "internal", marker: "no", text });
const invalidLocalData = (text: string, marker: "yes" | "no"): Entry => ({ kind: "invalid-local-data", marker, text });

export const ERROR_CODES = {
  CONFIG_INVALID: fatal("a configuration value is missing or out of range"),
  CONVEX_URL_MISSING: fatal("no Convex deployment URL was given"),
  TOKEN_MISSING: fatal("no service token (CELSTATE_SYNC_TOKEN) was given"),
  UNAUTHORIZED: fatal("the deployment refused the service token"),
  TOKEN_NOT_CONFIGURED: fatal("the deployment has no CELSTATE_SYNC_TOKEN set"),
  API_MISMATCH: fatal("the deployment answers, but its functions are missing or speak another API version"),
  LOCKED: fatal("another celstate-sync already runs on this jobs folder"),
  JOBS_DIR_UNREADABLE: fatal("the jobs folder does not exist or cannot be read"),
  LOCK_UNWRITABLE: fatal("the instance lock cannot be created in the jobs folder (the service user may not write there)"),
  HEALTH_PORT_UNAVAILABLE: fatal("the health and metrics port cannot be listened on (in use, or not allowed)"),
  NODE_TOO_OLD: fatal("the Node.js running celstate-sync is older than 20.19"),
  ROOT_REQUIRED: fatal("doctor --as-user checks as another user, which only root can do"),
  NO_SUCH_JOB: fatal("a job named on the command line has no folder in the jobs folder"),
  USER_UNKNOWN: fatal("the user named with doctor --as-user does not exist on this host"),

  NETWORK: outage("the deployment could not be reached"),
  TIMEOUT: outage("the deployment did not answer within the configured timeout"),
  BACKEND_NOT_RUNNING: outage("the deployment is not running (paused, disabled or over its usage limits)"),
  SERVER_ERROR: outage('a server error (5xx) or a function failure without error data ("Server Error", what a paused deployment answers)'),

  OVERLOADED: transient("the deployment asked to retry this request (429, an OCC conflict, a request or system timeout)"),
  FILE_SETTLING: transient("a file is still being written; it is synced once it stops changing"),
  FILE_CHANGED: transient("a file changed while it was being uploaded", "after retries"),
  JOB_VANISHED: transient("the job folder or job.json disappeared while it was being read"),
  STORAGE_ID_UNKNOWN: transient("an upload URL or blob was gone (expired or collected); a fresh one is taken"),
  FILE_UNREADABLE: transient("a file exists but this user may not read it (check the service user's permissions)"),
  STUCK: transient("errors that are not the job's own went on past the retry limits; still retried, at the slowest pace"),

  INTERNAL: internal("an error nobody classified (a bug): logged with its stack and retried, never marked"),

  JOB_JSON_UNPARSABLE: invalidLocalData("job.json is not valid JSON (Python's NaN/Infinity allowed); never rewritten", "no"),
  JOB_JSON_INVALID: invalidLocalData("job.json does not match JobRecord.v1; never rewritten", "no"),
  JOB_ID_MISMATCH: invalidLocalData("the record's id differs from its folder name; never rewritten", "no"),
  UPLOAD_TOO_SLOW: invalidLocalData(
    "a file's upload timed out, and at the rate uploads reach it could not make it within uploadTimeoutMs or the deployment's cut (Convex allows 2 minutes); tried again when it changes or the daemon restarts",
    "no",
  ),
  UNSAFE_PATH: invalidLocalData("a file is a symlink, not a regular file, or leads outside its job folder", "yes"),
  ASSET_MISSING: invalidLocalData("a finished job lists an asset whose file does not exist", "yes"),
  VALUE_LIMIT: invalidLocalData("the record breaks a Convex limit (size, nesting, array length, field name)", "yes"),
  REJECTED: invalidLocalData("a function refused an argument for this job's own values (INVALID_ARGUMENT naming the job)", "yes"),
  RETRIES_EXHAUSTED: invalidLocalData("errors of the job's own (a file that keeps changing) went on past the retry limits", "yes"),
} satisfies Record<string, Entry>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function kindOf(code: ErrorCode): ErrorKind {
  return ERROR_CODES[code].kind;
}

export function markerRuleOf(code: ErrorCode): MarkerRule {
  return ERROR_CODES[code].marker;
}
