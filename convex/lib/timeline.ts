/**
 * The job's timeline in `jobEvents` (the plan's `record_event(job_id, kind, payload)`):
 *
 * - `stage`: a status / progress-stage transition the functions saw a write make, at the
 *   record's own `updatedAt`; payload `{status, progressStage, updatedAt}` (ISO text when the
 *   writer sent it, else null).
 * - `trace`: one event of the job's `trace/trace.json`, at its own timestamp; payload
 *   `{index, eventType, timestamp, dataJson, dataBytes}`, `data` as JSON text (its keys are
 *   the pipeline's, not always valid field names), `null` past MAX_TRACE_DATA_BYTES.
 * - `trace_summary`: how many trace events were left out past MAX_TRACE_EVENTS.
 * - bookkeeping, one per change a mutation made, at the server's clock: `created`, `updated`,
 *   `stale_ignored`, `asset_saved`, `asset_replaced`, `asset_removed`.
 *
 * Stage and trace events carry a `key` derived from what they record, and are inserted only
 * when the job has no event with that key: a re-run, a restart or a second daemon adds
 * nothing. Bookkeeping events need no key: the mutation that writes one changed something,
 * which a replay of the same write does not.
 */
import { v, type Infer } from "convex/values";
import type { Doc } from "../_generated/dataModel.js";
import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { fail } from "./errors.js";
import { isoToMicros } from "./time.js";

/** Trace events kept per job; the rest are counted in one `trace_summary` event. */
export const MAX_TRACE_EVENTS = 100;
/** Bytes of one trace event's `data` as JSON text (UTF-8) kept; past it, only its size. */
export const MAX_TRACE_DATA_BYTES = 2048;
/** Longest `eventType` / `timestamp` text kept. */
export const MAX_TRACE_LABEL_CHARS = 200;
/** Most events `sync:timeline` returns. */
export const MAX_TIMELINE_EVENTS = 1000;

export type BookkeepingKind = "created" | "updated" | "stale_ignored" | "asset_saved" | "asset_replaced" | "asset_removed";

export const traceEventInput = v.object({
  /** Position in trace.json's `events`. */
  index: v.number(),
  eventType: v.string(),
  timestamp: v.string(),
  dataJson: v.union(v.string(), v.null()),
  /** Length of `data` as JSON text, kept or not. */
  dataBytes: v.number(),
});

/** What the daemon sends of a trace.json: its first events (bounded) and how many there were. */
export const traceInput = v.object({ events: v.array(traceEventInput), totalEvents: v.number() });

export type TraceInput = Infer<typeof traceInput>;

export const timelineEvent = v.object({ kind: v.string(), payload: v.any(), createdAt: v.number() });

async function hasEvent(ctx: QueryCtx, jobId: string, key: string): Promise<boolean> {
  const row = await ctx.db
    .query("jobEvents")
    .withIndex("by_job_key", (q) => q.eq("jobId", jobId).eq("key", key))
    .first();
  return row !== null;
}

async function insertOnce(ctx: MutationCtx, event: Omit<Doc<"jobEvents">, "_id" | "_creationTime"> & { key: string }): Promise<boolean> {
  if (await hasEvent(ctx, event.jobId, event.key)) return false;
  await ctx.db.insert("jobEvents", event);
  return true;
}

export async function recordBookkeeping(
  ctx: MutationCtx,
  jobId: string,
  kind: BookkeepingKind,
  payload: Record<string, string | number | null> = {},
): Promise<void> {
  await ctx.db.insert("jobEvents", { jobId, kind, payload, createdAt: Date.now() });
}

type Stage = { status: string; progressStage: string | null };

function stageOf(row: { status: string; progressStage?: string | null }): Stage {
  return { status: row.status, progressStage: row.progressStage ?? null };
}

/**
 * Records the transition a write makes, if it changes the stage: `before` is the stored row (or
 * null for a new job), `after` the row written, `updatedAtUs` its version.
 */
export async function recordStageChange(
  ctx: MutationCtx,
  before: { status: string; progressStage?: string | null } | null,
  after: { jobId: string; status: string; progressStage?: string | null; updatedAt: number; updatedAtIso?: string },
  updatedAtUs: number,
): Promise<void> {
  const next = stageOf(after);
  if (before !== null) {
    const prev = stageOf(before);
    if (prev.status === next.status && prev.progressStage === next.progressStage) return;
  }
  await insertOnce(ctx, {
    jobId: after.jobId,
    kind: "stage",
    key: `stage:${updatedAtUs}`,
    payload: { ...next, updatedAt: after.updatedAtIso ?? null },
    createdAt: after.updatedAt,
  });
}

function traceProblem(trace: TraceInput): string | null {
  if (trace.events.length > MAX_TRACE_EVENTS) return `expected at most ${MAX_TRACE_EVENTS} trace events, got ${trace.events.length}`;
  const encoder = new TextEncoder();
  for (const e of trace.events) {
    if (e.dataJson !== null && encoder.encode(e.dataJson).length > MAX_TRACE_DATA_BYTES)
      return `a trace event's data exceeds ${MAX_TRACE_DATA_BYTES} bytes`;
    if (e.eventType.length > MAX_TRACE_LABEL_CHARS || e.timestamp.length > MAX_TRACE_LABEL_CHARS) {
      return `a trace event's type or timestamp exceeds ${MAX_TRACE_LABEL_CHARS} characters`;
    }
  }
  return null;
}

/** Adds the trace's events the job does not have yet, at most MAX_TRACE_EVENTS in all. Returns how many were added. */
export async function recordTrace(ctx: MutationCtx, jobId: string, trace: TraceInput): Promise<number> {
  const problem = traceProblem(trace);
  // No jobId in the data: these bounds are ours (the daemon cuts to them), not the job's fault.
  if (problem !== null) fail({ code: "INVALID_ARGUMENT", field: "trace", message: `job ${jobId}: ${problem}` });
  // Every trace event the job has (at most MAX_TRACE_EVENTS): the keys to skip, and the room left.
  const kept = await ctx.db
    .query("jobEvents")
    .withIndex("by_job_key", (q) => q.eq("jobId", jobId).gte("key", "trace:").lt("key", "trace;"))
    .take(MAX_TRACE_EVENTS);
  const keys = new Set(kept.map((e) => e.key));
  let added = 0;
  for (const e of trace.events) {
    if (keys.size >= MAX_TRACE_EVENTS) break;
    const key = `trace:${e.index}:${e.timestamp}:${e.eventType}`;
    if (keys.has(key)) continue;
    const us = isoToMicros(e.timestamp);
    await ctx.db.insert("jobEvents", {
      jobId,
      kind: "trace",
      key,
      payload: e,
      createdAt: us === null ? Date.now() : Math.floor(us / 1000),
    });
    keys.add(key);
    added++;
  }
  const omitted = trace.totalEvents - trace.events.length;
  if (omitted > 0) {
    await insertOnce(ctx, {
      jobId,
      kind: "trace_summary",
      key: `trace-summary:${trace.totalEvents}`,
      payload: { totalEvents: trace.totalEvents, keptEvents: trace.events.length, omittedEvents: omitted },
      createdAt: Date.now(),
    });
  }
  return added;
}

/** The job's timeline, oldest first (by the time each event records, then by insertion). */
export async function listTimeline(ctx: QueryCtx, jobId: string): Promise<Infer<typeof timelineEvent>[]> {
  const rows = await ctx.db
    .query("jobEvents")
    .withIndex("by_job", (q) => q.eq("jobId", jobId))
    .take(MAX_TIMELINE_EVENTS);
  return rows
    .map((r) => ({ kind: r.kind, payload: r.payload, createdAt: r.createdAt, order: r._creationTime }))
    .sort((a, b) => a.createdAt - b.createdAt || a.order - b.order)
    .map(({ order: _order, ...event }) => event);
}
