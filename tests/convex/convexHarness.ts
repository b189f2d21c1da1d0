/**
 * Shared set-up for the `convex/` function tests: a convex-test instance over the project's
 * own modules, the service token in the environment (restored after each test), the real-format
 * samples mapped the way the daemon maps them, and small readers of the whole database so a
 * test can prove that a refused call changed nothing.
 */
import { readdirSync, readFileSync } from "node:fs";
import { convexTest } from "convex-test";
import { ConvexError } from "convex/values";
import { afterEach, beforeEach, expect, vi } from "vitest";
import { api } from "../../convex/_generated/api.js";
import type { Id } from "../../convex/_generated/dataModel.js";
import { type AssetInput, componentFilenames, type JobRecordInput } from "../../convex/lib/jobStore.js";
import { isoToMicros } from "../../convex/lib/time.js";
import schema from "../../convex/schema.js";
import { jobRecordV1, recordHash, toConvexRecord } from "../../src/local/jobRecord.js";
import { parsePythonJson, stringifyPythonJson } from "../../src/local/pythonJson.js";
import { componentTextOf } from "../../src/local/readJob.js";
import { parsePublicComponent, type PublicComponent } from "../../src/remote/publicComponent.js";

/**
 * Every module under convex/, `_generated` included (convex-test finds the root through it);
 * not `convex.config.ts`, which only a deployment can evaluate (its components are registered).
 */
export const modules = import.meta.glob(["../../convex/**/*.ts", "!../../convex/convex.config.ts"]);

export { planShapeOf } from "../helpers/planShape.js";

export const TOKEN = "test-service-token-7f3a";
const TOKEN_ENV = "CELSTATE_SYNC_TOKEN";

export function newConvexTest() {
  return convexTest(schema, modules);
}

export type ConvexHarness = ReturnType<typeof newConvexTest>;

/**
 * Sets CELSTATE_SYNC_TOKEN before each test of the calling file and puts the previous value
 * (or its absence) back afterwards, so no test leaks its environment into another.
 */
/**
 * Each test of the file runs at one fixed instant. Only the clock is faked (convex-test stamps
 * `_creationTime` with Date.now()); its own scheduling keeps real timers.
 */
export function useFixedClock(at = "2026-11-20T15:00:00Z"): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date(at));
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

export function useServiceToken(): void {
  let previous: string | undefined;
  beforeEach(() => {
    previous = process.env[TOKEN_ENV];
    process.env[TOKEN_ENV] = TOKEN;
  });
  afterEach(() => {
    if (previous === undefined) delete process.env[TOKEN_ENV];
    else process.env[TOKEN_ENV] = previous;
  });
}

const SAMPLES_DIR = new URL("../fixtures/samples/", import.meta.url);

/** The `*.job.json` samples, in stage order. */
export const JOB_SAMPLES: readonly string[] = readdirSync(SAMPLES_DIR)
  .filter((f) => f.endsWith(".job.json"))
  .sort();

export type Sample = {
  /** The parsed job.json exactly as Python wrote it (snake_case, NaN/Infinity kept). */
  raw: Record<string, unknown>;
  job: JobRecordInput;
  recordHash: string;
};

export function loadSample(file: string): Sample {
  const text = readFileSync(new URL(file, SAMPLES_DIR), "utf8");
  const raw = parsePythonJson(text) as Record<string, unknown>;
  const job = toConvexRecord(jobRecordV1.parse(raw), componentTextOf(text));
  return { raw, job, recordHash: recordHash(job) };
}

export function readSampleBytes(file: string): Buffer {
  return readFileSync(new URL(file, SAMPLES_DIR));
}

/** The same record at another instant (ISO text and its epoch ms, as the daemon sends both). */
export function atInstant(job: JobRecordInput, updatedAtIso: string): JobRecordInput {
  const us = isoToMicros(updatedAtIso);
  return { ...job, updatedAtIso, updatedAt: us === null ? 0 : Math.floor(us / 1000) };
}

/** A record with its hash, for tests that derive variants of a sample. */
export function hashed(job: JobRecordInput): { job: JobRecordInput; recordHash: string } {
  return { job, recordHash: recordHash(job) };
}

/** Stores a blob the way an upload would; distinct content gives a distinct storage URL. */
export async function storeBlob(t: ConvexHarness, content: string | Uint8Array): Promise<Id<"_storage">> {
  return await t.run(async (ctx) => await ctx.storage.store(new Blob([content])));
}

export async function blobExists(t: ConvexHarness, id: Id<"_storage">): Promise<boolean> {
  return (await t.run(async (ctx) => await ctx.db.system.get(id))) !== null;
}

export async function storageUrl(t: ConvexHarness, id: Id<"_storage">): Promise<string | null> {
  return await t.run(async (ctx) => await ctx.storage.getUrl(id));
}

/** The asset row the daemon would commit for `filename`; the role follows the pipeline's names. */
export function assetFor(filename: string, storageId: Id<"_storage">, extra: Partial<AssetInput> = {}): AssetInput {
  const role: AssetInput["role"] = filename.endsWith("_debug.png")
    ? "debug_png"
    : filename.endsWith("_mask.png")
      ? "mask_png"
      : filename.endsWith(".json")
        ? "trace_json"
        : "output_png";
  return {
    role,
    filename,
    storageId,
    contentType: role === "trace_json" ? "application/json" : "image/png",
    bytes: 100,
    sha256: `sha-of-${filename}`,
    sourceMtimeMs: 1_795_183_421_000,
    ...extra,
  };
}

/** Filenames a component lists in `component.assets`. */
export function listedFilenames(job: JobRecordInput): string[] {
  return componentFilenames(job);
}

/** A record's component, parsed from the text it travels as. */
export function componentOf(job: JobRecordInput): Record<string, unknown> | null {
  return typeof job.componentJson === "string" ? (parsePythonJson(job.componentJson) as Record<string, unknown>) : null;
}

/** The same record with its component replaced (written as Python would). */
export function withComponent(job: JobRecordInput, component: Record<string, unknown> | null): JobRecordInput {
  return { ...job, componentJson: component === null ? null : stringifyPythonJson(component) };
}

/** `jobs:getPublic` with its component parsed from the text it is served as. */
export async function publicOf(t: ConvexHarness, jobId: string): Promise<{ component: PublicComponent } & Record<string, unknown>> {
  const pub = await t.query(api.jobs.getPublic, { jobId });
  if (pub === null) throw new Error(`no public job ${jobId}`);
  return { ...pub, component: parsePublicComponent(pub.component) as PublicComponent };
}

export type TablesSnapshot = Record<string, unknown[]>;

/** Every document of every table in the schema, plus the `_storage` system table. */
export async function snapshotTables(t: ConvexHarness): Promise<TablesSnapshot> {
  return await t.run(async (ctx) => {
    const out: TablesSnapshot = {};
    for (const table of Object.keys(schema.tables) as Array<keyof typeof schema.tables>) {
      out[table] = await ctx.db.query(table).collect();
    }
    out._storage = await ctx.db.system.query("_storage").collect();
    return out;
  });
}

export async function countRows(t: ConvexHarness, table: keyof typeof schema.tables): Promise<number> {
  return await t.run(async (ctx) => (await ctx.db.query(table).collect()).length);
}

export type FunctionErrorData = { code: string; message: string; field?: string; jobId?: string; filename?: string };

/** Awaits a call that must fail with `ConvexError({code})`; returns the error data. */
export async function expectConvexError(call: Promise<unknown>, code: string): Promise<FunctionErrorData> {
  let caught: unknown;
  try {
    await call;
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ConvexError ${code}, but the call succeeded`).toBeDefined();
  expect(caught, `expected ConvexError ${code}, got ${String(caught)}`).toBeInstanceOf(ConvexError);
  const data = (caught as ConvexError<FunctionErrorData>).data;
  expect(data.code).toBe(code);
  expect(typeof data.message).toBe("string");
  return data;
}
