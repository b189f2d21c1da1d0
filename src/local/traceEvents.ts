/**
 * A job's `trace/trace.json` as timeline events (convex/lib/timeline.ts): its first
 * MAX_TRACE_EVENTS events with `event_type`, `timestamp` and `data` (as Python-JSON text,
 * dropped past MAX_TRACE_DATA_BYTES, its size kept), and how many there were in all.
 *
 * A trace that cannot be read as one is no fault of the job's record: the file is still
 * mirrored as an asset; only its timeline events are missing, and the caller says why.
 */
import { MAX_TRACE_DATA_BYTES, MAX_TRACE_EVENTS, MAX_TRACE_LABEL_CHARS, type TraceInput } from "../../convex/lib/timeline.js";
import { parsePythonJson, stringifyPythonJson } from "./pythonJson.js";

/** Largest trace.json read for its events (the file itself is uploaded whatever its size). */
export const MAX_TRACE_FILE_BYTES = 4 * 1024 * 1024;

export type TraceEvents = { ok: true; trace: TraceInput } | { ok: false; problem: string };

function label(value: unknown): string {
  const text = typeof value === "string" ? value : value === undefined ? "" : (JSON.stringify(value) ?? String(value));
  return text.length > MAX_TRACE_LABEL_CHARS ? text.slice(0, MAX_TRACE_LABEL_CHARS) : text;
}

/** Why a trace of this size is not read for its events, or null when it is small enough. */
export function traceSizeProblem(bytes: number): string | null {
  return bytes > MAX_TRACE_FILE_BYTES ? `is ${bytes} bytes, more than the ${MAX_TRACE_FILE_BYTES} read for the timeline` : null;
}

export function traceEventsOf(bytes: Uint8Array): TraceEvents {
  const tooBig = traceSizeProblem(bytes.length);
  if (tooBig !== null) return { ok: false, problem: tooBig };
  let parsed: unknown;
  try {
    parsed = parsePythonJson(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    return { ok: false, problem: `is not JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  const events = (parsed as { events?: unknown } | null)?.events;
  if (parsed === null || typeof parsed !== "object" || !Array.isArray(events)) {
    return { ok: false, problem: "has no `events` array" };
  }
  const encoder = new TextEncoder();
  const kept = events.slice(0, MAX_TRACE_EVENTS).map((raw: unknown, index) => {
    const e = (raw !== null && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
    const dataText = e.data === undefined ? "null" : stringifyPythonJson(e.data, 0);
    const dataBytes = encoder.encode(dataText).length;
    return {
      index,
      eventType: label(e.event_type),
      timestamp: label(e.timestamp),
      dataJson: dataBytes <= MAX_TRACE_DATA_BYTES ? dataText : null,
      dataBytes,
    };
  });
  return { ok: true, trace: { events: kept, totalEvents: events.length } };
}
