/**
 * `status --job <id>`'s detail for one job: the record fields as job.json holds them next to
 * what the deployment stores (`sync:getRecord`: the plan's epoch-ms `createdAt`/`updatedAt`
 * included), then the job's timeline (`sync:timeline`) with the time spent in each stage.
 */
import { isoToMillis, microsToIso } from "../../convex/lib/time.js";
import type { StoredRecord, TimelineEvent } from "../remote/ConvexGateway.js";
import { plural } from "../text/plural.js";

export type { StoredRecord, TimelineEvent };
export type StageSpan = { status: string; progressStage: string | null; at: number; ms: number | null };
export type JobDetail = {
  jobId: string;
  fields: Array<{ field: string; local: string; deployment: string; same: boolean }>;
  stages: StageSpan[];
  timeline: TimelineEvent[];
};

/** job.json's name → the stored field's name, in the order shown. */
const FIELDS: ReadonlyArray<[string, string]> = [
  ["status", "status"],
  ["progress_stage", "progressStage"],
  ["name", "name"],
  ["type", "internalAssetType"],
  ["created_at", "createdAt"],
  ["updated_at", "updatedAt"],
  ["error", "error"],
  ["retry_after", "retryAfter"],
];

function show(value: unknown): string {
  if (value === undefined) return "(absent)";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A stored timestamp: the ISO text the daemon wrote, else the plan's epoch ms as an instant; always with the number. */
function storedInstant(record: StoredRecord, field: "createdAt" | "updatedAt"): string {
  const iso = record[`${field}Iso`];
  const text = typeof iso === "string" ? iso : microsToIso(record[field] * 1000);
  return `${text} (${field} ${record[field]})`;
}

function storedValue(record: StoredRecord | null, field: string): string {
  if (record === null) return "(not in the deployment)";
  if (field === "createdAt" || field === "updatedAt") return storedInstant(record, field);
  // A plan-style writer may have stored null for an absent value.
  if (field === "retryAfter" && record.retryAfter === null) return "(absent)";
  return show(record[field]);
}

function sameValue(local: unknown, record: StoredRecord | null, field: string): boolean {
  if (record === null) return false;
  if (field === "createdAt" || field === "updatedAt") {
    // The daemon's rows keep job.json's text; the plan's only epoch ms, compared as such.
    const iso = record[`${field}Iso`];
    return typeof iso === "string" ? iso === local : typeof local === "string" && isoToMillis(local) === record[field];
  }
  const stored = field === "retryAfter" && record.retryAfter === null ? undefined : record[field];
  return show(stored) === show(local);
}

/** Each stage event with how long the job stayed in it (until the next stage; null for the last). */
export function stageSpans(timeline: readonly TimelineEvent[]): StageSpan[] {
  const stages = timeline
    .filter((e) => e.kind === "stage")
    .map((e) => {
      const p = (e.payload ?? {}) as { status?: unknown; progressStage?: unknown };
      return { status: String(p.status), progressStage: typeof p.progressStage === "string" ? p.progressStage : null, at: e.createdAt };
    });
  return stages.map((s, i) => ({ ...s, ms: i + 1 < stages.length ? stages[i + 1]!.at - s.at : null }));
}

export function describeJob(
  jobId: string,
  local: Record<string, unknown> | null,
  stored: StoredRecord | null,
  timeline: readonly TimelineEvent[],
): JobDetail {
  return {
    jobId,
    fields: FIELDS.map(([jsonName, storedName]) => ({
      field: jsonName,
      local: local === null ? "(unreadable)" : show(local[jsonName]),
      deployment: storedValue(stored, storedName),
      same: local !== null && sameValue(local[jsonName], stored, storedName),
    })),
    stages: stageSpans(timeline),
    timeline: [...timeline],
  };
}

function duration(ms: number | null): string {
  if (ms === null) return "";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

function eventSummary(e: TimelineEvent): string {
  const p = (e.payload ?? {}) as Record<string, unknown>;
  switch (e.kind) {
    case "stage":
      return `${String(p.status)} / ${String(p.progressStage ?? "-")}`;
    case "trace":
      return `${String(p.eventType)}${p.dataJson === null ? ` (data ${String(p.dataBytes)} bytes, not kept)` : ""}`;
    case "trace_summary":
      return `${String(p.omittedEvents)} of ${String(p.totalEvents)} trace events not kept`;
    default:
      return typeof p.filename === "string" ? p.filename : typeof p.updatedAt === "string" ? `record of ${p.updatedAt}` : "";
  }
}

export function formatJobDetail(d: JobDetail): string {
  const width = Math.max(...d.fields.map((f) => f.local.length), 5);
  const lines = [`job ${d.jobId}`, `  ${"field".padEnd(15)} ${"job.json".padEnd(width)}  deployment`];
  for (const f of d.fields) lines.push(`  ${f.field.padEnd(15)} ${f.local.padEnd(width)}  ${f.deployment}${f.same ? "" : "  ≠"}`);
  lines.push(`  stages (${d.stages.length})`);
  for (const s of d.stages) {
    lines.push(`    ${new Date(s.at).toISOString()}  ${`${s.status} / ${s.progressStage ?? "-"}`.padEnd(36)} ${duration(s.ms)}`.trimEnd());
  }
  lines.push(`  timeline (${plural(d.timeline.length, "event", "events")})`);
  for (const e of d.timeline) lines.push(`    ${new Date(e.createdAt).toISOString()}  ${e.kind.padEnd(15)} ${eventSummary(e)}`.trimEnd());
  return `${lines.join("\n")}\n`;
}
