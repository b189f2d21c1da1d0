/**
 * JobRecord.v1 as the pipeline writes it, and its mapping to the Convex record.
 * Unknown extra keys are accepted (and kept in the local file); only the known fields travel.
 * `checkJobRecord` turns a validation failure into one sentence naming the job.json field;
 * `jobJsonFieldName` maps a Convex field path back to job.json's names for limit errors.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { JobRecordInput } from "../../convex/lib/jobStore.js";
import { isoToMicros, isoToMillis } from "../../convex/lib/time.js";
import { stringifyPythonJson } from "./pythonJson.js";

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
    component: z.looseObject({ assets: z.record(z.string(), z.unknown()).optional() }).nullable(),
    error: z.string().nullable(),
    render_size_hint: z.number().int().nullable().optional(),
    retry_after: z.number().nullable().optional(),
    telemetry: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .loose();

export type JobRecordV1 = z.infer<typeof jobRecordV1>;

/**
 * snake_case → camelCase, `type` → `internalAssetType`; absent and null optionals are omitted;
 * `created_at`/`updated_at` as the plan's epoch milliseconds and as their ISO text.
 * The component travels as `componentJson`, its text exactly as job.json holds it
 * (`componentText`; see convex/lib/componentText.ts for why text); without the file's text at
 * hand, as Python's `json.dumps` would write the parsed value.
 */
export function toConvexRecord(r: JobRecordV1, componentText?: string | null): JobRecordInput {
  const out: JobRecordInput = {
    jobId: r.id,
    status: r.status,
    internalAssetType: r.type,
    prompt: r.prompt,
    // Validated by `isoTimestamp` above, so never null here.
    createdAt: isoToMillis(r.created_at)!,
    updatedAt: isoToMillis(r.updated_at)!,
    createdAtIso: r.created_at,
    updatedAtIso: r.updated_at,
    componentJson: r.component == null ? null : (componentText ?? stringifyPythonJson(r.component, 0)),
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
  const keys = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
}

/** What each known field must hold, in words, for validation messages. */
const EXPECTED: Record<string, string> = {
  id: "a non-empty string (the job's uuid)",
  status: `one of ${JOB_STATUSES.join("|")}`,
  type: "a string",
  prompt: "a string",
  layout_intent: "a string or null",
  style_context: "a string or null",
  name: "a string or null",
  progress_stage: "a string or null",
  created_at: "an ISO-8601 timestamp like 2026-11-20T14:03:11.482913+00:00",
  updated_at: "an ISO-8601 timestamp like 2026-11-20T14:03:11.482913+00:00",
  component: "an object or null",
  "component.assets": "an object mapping filenames to placeholders",
  error: "a string or null",
  render_size_hint: "an integer or null",
  retry_after: "a number or null",
  telemetry: "an object or null",
};

/** A short rendering of an offending value: scalars as JSON, containers by kind. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === "object") return "an object";
  if (typeof value === "number" && !Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur = raw;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join("");
}

export type JobRecordCheck = { ok: true; record: JobRecordV1 } | { ok: false; problem: string };

/**
 * Validates a parsed job.json against JobRecord.v1 and, when it fails, says which field, what
 * was expected and what arrived: "field `status`: expected one of queued|…, got \"done\"".
 */
export function checkJobRecord(raw: unknown): JobRecordCheck {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, problem: `expected a JSON object at the top level, got ${describeValue(raw)}` };
  }
  const result = jobRecordV1.safeParse(raw);
  if (result.success) return { ok: true, record: result.data };
  const [first, ...rest] = result.error.issues;
  if (first === undefined) return { ok: false, problem: "does not match JobRecord.v1" };
  const field = formatPath(first.path);
  const value = valueAt(raw, first.path);
  const expected = EXPECTED[field] ?? first.message;
  const got = value === undefined ? "the field is missing" : `got ${describeValue(value)}`;
  const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? "s" : ""})` : "";
  return { ok: false, problem: `field \`${field}\`: expected ${expected}, ${got}${more}` };
}

const CONVEX_TO_JOB_JSON: Record<string, string> = {
  jobId: "id",
  internalAssetType: "type",
  layoutIntent: "layout_intent",
  styleContext: "style_context",
  createdAt: "created_at",
  updatedAt: "updated_at",
  createdAtIso: "created_at",
  updatedAtIso: "updated_at",
  progressStage: "progress_stage",
  renderSizeHint: "render_size_hint",
  retryAfter: "retry_after",
};

/** `telemetry.x` stays, `renderSizeHint` → `render_size_hint`: a Convex field path in job.json terms. */
export function jobJsonFieldName(convexPath: string): string {
  const m = /^([^.[]+)(.*)$/s.exec(convexPath);
  if (!m) return convexPath;
  const [, head = "", tail = ""] = m;
  return (CONVEX_TO_JOB_JSON[head] ?? head) + tail;
}
