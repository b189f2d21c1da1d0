/**
 * JobRecord.v1 as the pipeline writes it, and its mapping to the Convex record.
 * Unknown extra keys are accepted (and kept in the local file); only the known fields travel.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { JobRecordInput } from "../../convex/lib/jobStore.js";
import { isoToMicros } from "../../convex/lib/time.js";

const isoTimestamp = z.string().refine((s) => isoToMicros(s) !== null, {
  message: "expected an ISO-8601 timestamp like 2026-11-20T14:03:11.482913+00:00",
});

export const JOB_STATUSES = ["queued", "running", "succeeded", "failed"] as const;

export const jobRecordV1 = z
  .object({
    id: z.string().min(1),
    status: z.enum(JOB_STATUSES),
    type: z.string(),
    layout_intent: z.string().nullable().optional(),
    prompt: z.string(),
    style_context: z.string().nullable().optional(),
    name: z.string().nullable().optional(),
    created_at: isoTimestamp,
    updated_at: isoTimestamp,
    progress_stage: z.string().nullable().optional(),
    component: z
      .looseObject({ assets: z.record(z.string(), z.unknown()).optional() })
      .nullable(),
    error: z.string().nullable(),
    render_size_hint: z.number().int().nullable().optional(),
    retry_after: z.number().nullable().optional(),
    telemetry: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .loose();

export type JobRecordV1 = z.infer<typeof jobRecordV1>;

/** snake_case → camelCase, `type` → `internalAssetType`; absent and null optionals are omitted. */
export function toConvexRecord(r: JobRecordV1): JobRecordInput {
  const out: JobRecordInput = {
    jobId: r.id,
    status: r.status,
    internalAssetType: r.type,
    prompt: r.prompt,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    component: r.component ?? null,
    error: r.error,
  };
  if (r.layout_intent !== undefined) out.layoutIntent = r.layout_intent;
  if (r.style_context !== undefined) out.styleContext = r.style_context;
  if (r.name !== undefined) out.name = r.name;
  if (r.progress_stage !== undefined) out.progressStage = r.progress_stage;
  if (r.render_size_hint != null) out.renderSizeHint = r.render_size_hint;
  if (r.retry_after != null) out.retryAfter = r.retry_after;
  if (r.telemetry != null) out.telemetry = r.telemetry;
  return out;
}

/**
 * A stable digest of the Convex record: keys sorted at every level, non-finite numbers and -0
 * spelled out, so that two reads of an unchanged job.json give the same hash.
 */
export function recordHash(record: JobRecordInput): string {
  return createHash("sha256").update(canonical(record)).digest("hex");
}

function canonical(value: unknown): string {
  if (typeof value === "number") {
    if (Number.isFinite(value)) return Object.is(value, -0) ? "-0" : JSON.stringify(value);
    return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  }
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
}
