/**
 * Shared pieces of the stand-in's own tests: a polling `waitFor`, job records and asset
 * rows in the shape the functions take, and raw wire calls for what the official client
 * cannot send (bad JSON, bare-object args, `$` field names).
 */
import { createHash } from "node:crypto";
import type { JobRecordInput } from "../../convex/lib/jobStore.js";

export const TOKEN = "standin-test-token-5c1e";

/** Polls `cond` (sync or async) until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`waitFor: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function sha256Base64(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64");
}

/** A job record as the daemon sends it (camelCase), with a component listing `assets`. */
export function jobRecord(jobId: string, overrides: Partial<JobRecordInput> = {}, assets: string[] = []): JobRecordInput {
  return {
    jobId,
    status: assets.length > 0 ? "succeeded" : "queued",
    internalAssetType: "icon",
    layoutIntent: "column",
    prompt: `prompt of ${jobId}`,
    styleContext: null,
    name: "ivy",
    createdAt: "2026-11-20T14:03:11.482913+00:00",
    updatedAt: "2026-11-20T14:03:41.377820+00:00",
    progressStage: assets.length > 0 ? "completed" : "initialized",
    component:
      assets.length > 0
        ? { manifest: { version: "0.1", id: "ivy" }, assets: Object.fromEntries(assets.map((a) => [a, null])) }
        : null,
    error: null,
    ...overrides,
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
