/**
 * Reads the `sync_failure` marker back from a parsed job.json. Loose on purpose: the marker
 * may have been written by an older version or touched by hand, and what matters is the
 * `reason` (to avoid rewriting the same marker) and `previous` (to restore on retry).
 */
import type { FailureMarker } from "./types.js";

export const MARKER_KEY = "sync_failure";

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The marker in `raw[MARKER_KEY]`, or null when absent or unrecognisable (no `reason` string, no `previous` object). */
export function parseFailureMarker(raw: Record<string, unknown>): FailureMarker | null {
  const m = raw[MARKER_KEY];
  if (!isObject(m) || typeof m.reason !== "string" || !isObject(m.previous)) return null;
  const previous = {} as FailureMarker["previous"];
  // Keep absence: a key the original record did not have is not restored as null.
  for (const key of ["status", "progress_stage", "error", "component", "retry_after"] as const) {
    if (Object.hasOwn(m.previous, key)) previous[key] = m.previous[key];
  }
  return {
    at: typeof m.at === "string" ? m.at : "",
    attempts: typeof m.attempts === "number" ? m.attempts : 0,
    reason: m.reason,
    retryable: m.retryable === true,
    previous,
  };
}
