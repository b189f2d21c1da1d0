/**
 * The failure marker (DESIGN §4): when a job cannot be synced because of its own data, job.json
 * says so in the pipeline's own convention for a failed job, and remembers what it replaced so
 * that `celstate-sync retry` can put it back:
 *
 *   "status": "failed", "progress_stage": "error",
 *   "error": "[TraceID: <id>] Convex sync failed: <reason>", "updated_at": <now>,
 *   "component": null, (no "retry_after")
 *   "sync_failure": {"at", "attempts", "reason", "retryable",
 *                    "previous": {"status", "progress_stage", "error", "component"?, "retry_after"?}}
 *
 * The record then reads exactly like a job the pipeline failed itself, and that is what the
 * public view shows (the daemon commits a marked job's record, nothing else).
 *
 * Every write goes through `casRewriteJobJson` (compare-and-swap; see its header). Only the
 * top-level members that change are rewritten, and values move by their text (re-indented, never
 * re-serialised): every other key keeps its exact text, order and layout (Python's `1.0` stays
 * `1.0`), and `retry` puts the component back byte for byte but for indentation.
 *
 * Rules that keep the marker from looping or nesting:
 * - the same reason on a job already in the marker's state → "unchanged", nothing written;
 * - a new reason on a job already in the marker's state keeps the ORIGINAL `previous`;
 * - a marker the pipeline carried along into a newer state is not "the state": that newer
 *   state becomes `previous` (and `retry` leaves it alone).
 * `updated_at` always moves forward (at least 1 µs past the stored one), because Convex takes
 * writes monotonically and a marker stamped earlier than the record would be ignored.
 */
import { isoToMicros } from "../../convex/lib/time.js";
import { casRewriteJobJson, type CasOptions, type CasOutcome } from "./casRewriteJobJson.js";
import { MARKER_KEY, parseFailureMarker } from "./parseFailureMarker.js";
import { stringifyPythonJson, pythonJsonString } from "./pythonJson.js";
import {
  editTopLevel,
  joinTopLevel,
  lastMember,
  splitTopLevel,
  topLevelIndent,
  type TopLevelObject,
} from "../../convex/lib/topLevelMembers.js";
import type { FailureMarker } from "./types.js";

export type WriteFailureMarkerOutcome = CasOutcome<"unchanged">;
export type ClearFailureMarkerOutcome = "cleared" | "no-marker" | "skipped-unparsable" | "raced-gave-up";

export type WriteFailureMarkerInput = CasOptions & {
  reason: string;
  attempts: number;
  retryable: boolean;
  now?: Date;
};

/** What the marker replaces and `previous` keeps (a key absent from job.json stays absent). */
const STATE_KEYS = ["status", "progress_stage", "error", "component", "retry_after"] as const;
const OPTIONAL_STATE_KEYS: ReadonlySet<string> = new Set(["component", "retry_after"]);

export function markerErrorPrefix(jobId: string): string {
  return `[TraceID: ${jobId}] Convex sync failed: `;
}

/** `2026-11-20T14:03:11.482913+00:00`, as Python's `datetime.now(timezone.utc).isoformat()`. */
export function pythonUtcTimestamp(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const frac = String(micros - ms * 1000 + (ms % 1000) * 1000).padStart(6, "0");
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}+00:00`;
}

/** Now, or 1 µs after the record's `updated_at` if the clock is behind it. */
function nextUpdatedAt(raw: Record<string, unknown>, now: Date): string {
  const nowUs = now.getTime() * 1000;
  const stored = typeof raw.updated_at === "string" ? isoToMicros(raw.updated_at) : null;
  return pythonUtcTimestamp(stored !== null && stored >= nowUs ? stored + 1 : nowUs);
}

/** Whether job.json currently shows a marker's state (rather than one the pipeline wrote). */
export function isInMarkerState(raw: Record<string, unknown>, jobId: string): boolean {
  return (
    parseFailureMarker(raw) !== null &&
    raw.status === "failed" &&
    raw.progress_stage === "error" &&
    typeof raw.error === "string" &&
    raw.error.startsWith(markerErrorPrefix(jobId))
  );
}

/** Text of the last occurrence of `key` (the one a JSON parser keeps). */
function memberText(obj: TopLevelObject | null, key: string): string | undefined {
  return obj === null ? undefined : lastMember(obj, key)?.valueText;
}

function trySplit(text: string | undefined): TopLevelObject | null {
  if (text === undefined) return null;
  try {
    return splitTopLevel(text);
  } catch {
    return null;
  }
}

/**
 * Text for a value moved from `fromDepth` to `toDepth`: its original text re-indented (inside a
 * JSON text a newline is never part of a string, so shifting every continuation line is exact),
 * or the value serialised at `toDepth` when no text is at hand.
 */
function valueText(original: string | undefined, value: unknown, indent: number, fromDepth: number, toDepth: number): string {
  if (original === undefined) return stringifyPythonJson(value, indent, toDepth);
  if (!original.includes("\n")) return original;
  const shift = (toDepth - fromDepth) * indent;
  return original
    .split("\n")
    .map((line, n) =>
      n === 0 ? line : shift >= 0 ? " ".repeat(shift) + line : line.slice(Math.min(-shift, line.length - line.trimStart().length)),
    )
    .join("\n");
}

function markerText(
  m: Omit<FailureMarker, "previous">,
  previous: ReadonlyArray<readonly [key: string, text: string]>,
  indent: number,
): string {
  const pad = (d: number) => " ".repeat(indent * d);
  const prev =
    previous.length === 0 ? "{}" : `{\n${previous.map(([k, t]) => `${pad(3)}${pythonJsonString(k)}: ${t}`).join(",\n")}\n${pad(2)}}`;
  const lines = [
    `${pad(2)}"at": ${pythonJsonString(m.at)}`,
    `${pad(2)}"attempts": ${stringifyPythonJson(m.attempts)}`,
    `${pad(2)}"reason": ${pythonJsonString(m.reason)}`,
    `${pad(2)}"retryable": ${m.retryable ? "true" : "false"}`,
    `${pad(2)}"previous": ${prev}`,
  ];
  return `{\n${lines.join(",\n")}\n${pad(1)}}`;
}

/**
 * Marks the job as failed to sync. Returns "written", "unchanged" (this reason is already
 * marked), "skipped-unparsable" (job.json is never rewritten then) or "raced-gave-up" (the
 * pipeline kept rewriting job.json through every attempt; the pipeline's data is intact).
 */
export async function writeFailureMarker(
  jobDir: string,
  jobId: string,
  { reason, attempts, retryable, now, ...cas }: WriteFailureMarkerInput,
): Promise<WriteFailureMarkerOutcome> {
  const error = markerErrorPrefix(jobId) + reason;
  return casRewriteJobJson<"unchanged">(
    jobDir,
    jobId,
    (text, raw) => {
      const inMarker = isInMarkerState(raw, jobId);
      const existing = parseFailureMarker(raw);
      if (inMarker && existing?.reason === reason && raw.error === error) return { stop: "unchanged" };

      const top = splitTopLevel(text);
      const indent = topLevelIndent(top) ?? 2;
      // `previous` is the state before the FIRST marker: never a marker's own state.
      const source = inMarker && existing ? existing.previous : raw;
      const sourceTexts = inMarker ? trySplit(memberText(trySplit(memberText(top, MARKER_KEY)), "previous")) : top;
      // From the record (depth 1), or from an older marker's `previous` (depth 3).
      const fromDepth = inMarker ? 3 : 1;
      const previous = STATE_KEYS.filter((k) => Object.hasOwn(source, k)).map(
        (k) => [k, valueText(memberText(sourceTexts, k), (source as Record<string, unknown>)[k], indent, fromDepth, 3)] as const,
      );
      const at = nextUpdatedAt(raw, now ?? new Date());
      const marker = markerText({ at, attempts, reason, retryable }, previous, indent);
      const edited = editTopLevel(top, {
        set: [
          ["status", pythonJsonString("failed")],
          ["progress_stage", pythonJsonString("error")],
          ["error", pythonJsonString(error)],
          ["updated_at", pythonJsonString(at)],
          ["component", "null"],
          [MARKER_KEY, marker],
        ],
        remove: ["retry_after"],
      });
      return { write: joinTopLevel(edited) };
    },
    cas,
  );
}

/**
 * For `celstate-sync retry`: puts `previous` back (a key that was absent is removed again),
 * drops `sync_failure` and moves `updated_at` to now so the restored state syncs. If the
 * pipeline has moved the job on since (the marker only rode along), only the marker is dropped.
 * A `sync_failure` value that is not a recognisable marker is dropped without restoring.
 */
export async function clearFailureMarker(
  jobDir: string,
  jobId: string,
  now?: Date,
  cas: CasOptions = {},
): Promise<ClearFailureMarkerOutcome> {
  const outcome = await casRewriteJobJson<"no-marker">(
    jobDir,
    jobId,
    (text, raw) => {
      if (!Object.hasOwn(raw, MARKER_KEY)) return { stop: "no-marker" };
      const top = splitTopLevel(text);
      const indent = topLevelIndent(top) ?? 2;
      const marker = parseFailureMarker(raw);
      const set: Array<readonly [string, string]> = [];
      const remove: string[] = [MARKER_KEY];
      if (marker && isInMarkerState(raw, jobId)) {
        const texts = trySplit(memberText(trySplit(memberText(top, MARKER_KEY)), "previous"));
        for (const k of STATE_KEYS) {
          if (Object.hasOwn(marker.previous, k)) set.push([k, valueText(memberText(texts, k), marker.previous[k], indent, 3, 1)]);
          // A key the record did not have is removed again; but a marker written before it kept
          // `component` and `retry_after` in `previous` never touched them: they stay as they are.
          else if (!OPTIONAL_STATE_KEYS.has(k)) remove.push(k);
        }
      }
      set.push(["updated_at", pythonJsonString(nextUpdatedAt(raw, now ?? new Date()))]);
      return { write: joinTopLevel(editTopLevel(top, { set, remove })) };
    },
    cas,
  );
  return outcome === "written" ? "cleared" : outcome;
}
