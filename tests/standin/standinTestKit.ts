/**
 * Shared pieces of the stand-in's own tests: a polling `waitFor`, job records and asset
 * rows in the shape the functions take, and raw wire calls for what the official client
 * cannot send (bad JSON, bare-object args, `$` field names).
 */
import { createHash } from "node:crypto";
import type { JobRecordInput, PlanUpsertInput } from "../../convex/lib/jobStore.js";
import { stringifyPythonJson } from "../../convex/lib/pythonJsonText.js";
import { isoToMillis } from "../../convex/lib/time.js";

export const TOKEN = "standin-test-token-5c1e";

/** Polls `cond` (sync or async) until it holds; fails with `what` after `timeoutMs`. */

export function sha256Base64(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64");
}

/** A job record as the plan's clients send it to `jobs:upsert`: epoch ms, the component as an object. */
export function jobRecord(jobId: string, overrides: Partial<PlanUpsertInput> = {}, assets: string[] = []): PlanUpsertInput {
  return {
    jobId,
    status: assets.length > 0 ? "succeeded" : "queued",
    internalAssetType: "icon",
    layoutIntent: "column",
    prompt: `prompt of ${jobId}`,
    styleContext: null,
    name: "ivy",
    createdAt: CREATED_MS,
    updatedAt: UPDATED_MS,
    progressStage: assets.length > 0 ? "completed" : "initialized",
    component:
      assets.length > 0 ? { manifest: { version: "0.1", id: "ivy" }, assets: Object.fromEntries(assets.map((a) => [a, null])) } : null,
    error: null,
    ...overrides,
  };
}

const CREATED_ISO = "2026-11-20T14:03:11.482913+00:00";
const UPDATED_ISO = "2026-11-20T14:03:41.377820+00:00";
const CREATED_MS = isoToMillis(CREATED_ISO)!;
const UPDATED_MS = isoToMillis(UPDATED_ISO)!;

/**
 * The same record as the daemon sends it to `sync:commit`: the timestamps also as ISO text, the
 * component as JSON text. `updatedAtIso` in `overrides` moves `updatedAt` with it.
 */
export function commitRecord(jobId: string, overrides: Partial<JobRecordInput> = {}, assets: string[] = []): JobRecordInput {
  const { component, createdAt: _c, updatedAt: _u, status, ...plan } = jobRecord(jobId, {}, assets);
  const updatedAtIso = overrides.updatedAtIso ?? UPDATED_ISO;
  return {
    ...(plan as Omit<JobRecordInput, "status" | "createdAt" | "updatedAt" | "createdAtIso" | "updatedAtIso" | "componentJson">),
    status: status as JobRecordInput["status"],
    createdAt: CREATED_MS,
    createdAtIso: CREATED_ISO,
    componentJson: component === null || component === undefined ? null : stringifyPythonJson(component),
    ...overrides,
    updatedAtIso,
    updatedAt: isoToMillis(updatedAtIso)!,
  };
}

export type RawCall = { status: number; body: Record<string, unknown> };

/** POSTs a raw body to `/api/<route>` and returns the status and parsed JSON. */
export async function rawCall(baseUrl: string, route: string, body: string): Promise<RawCall> {
  const res = await fetch(`${baseUrl}/api/${route}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
