/**
 * The pure half of `verify`: does the public record (`jobs:getPublic`) say what job.json says,
 * and nothing more? Compared against the record as the daemon sends it (`toConvexRecord`, so
 * `retry_after: null` counts as absent, exactly as it is synced):
 *
 * - `status` equal; `error` equal to job.json's with server paths made relative, as the public
 *   view shows them (convex/lib/publicError.ts); `retryAfter` absent on both sides, or equal;
 * - `component` (JSON text) equal to job.json's, key for key and in job.json's key order,
 *   except that `component.assets` maps the same filenames to URLs where job.json has
 *   placeholders;
 * - numbers compare with `Object.is`: NaN equals NaN (the telemetry carries it), -0 is not 0;
 * - nothing internal: no key beyond {jobId, status, retryAfter, error, component}, no
 *   `internalAssetType` anywhere, no string naming an absolute path (whatever folder the
 *   history was written in: a copy keeps its old paths).
 *
 * Returns every mismatch (capped per job) and the asset URLs to download and hash.
 */
import type { JobRecordInput } from "../../convex/lib/jobStore.js";
import { namesAbsolutePath, publicError } from "../../convex/lib/publicError.js";
import { describeValue } from "../local/jobRecord.js";
import { parsePythonJson } from "../local/pythonJson.js";

export type Mismatch = {
  /** What differs: `status`, `retryAfter`, `component.manifest.id`, `asset hero.png`, … */
  field: string;
  expected: string;
  got: string;
};

export type AssetUrl = { filename: string; url: string };

export type PublicComparison = { mismatches: Mismatch[]; assets: AssetUrl[] };

export type CompareOptions = {
  /** Absolute path of the jobs folder: no public string may contain it. */
  jobsDir?: string;
  /** Stop listing differences inside one job after this many. Default 50. */
  maxMismatches?: number;
};

export const PUBLIC_KEYS: ReadonlySet<string> = new Set(["jobId", "status", "retryAfter", "error", "component"]);

/** Keys that only internal tables hold; finding one anywhere in the public view is a leak. */
const INTERNAL_KEYS: ReadonlySet<string> = new Set(["internalAssetType", "recordHash", "updatedAtUs", "storageId", "sourceMtimeMs"]);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A value for a mismatch line. Strings are shown in full up to a bound: errors often differ late. */
export function show(value: unknown): string {
  if (value === undefined) return "absent";
  if (typeof value === "string") {
    const text = JSON.stringify(value);
    return text.length > 240 ? `${text.slice(0, 237)}...` : text;
  }
  return describeValue(value);
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

class Collector {
  readonly list: Mismatch[] = [];
  constructor(private readonly max: number) {}
  add(field: string, expected: string, got: string): void {
    if (this.list.length < this.max) this.list.push({ field, expected, got });
    else if (this.list.length === this.max) this.list.push({ field: "…", expected: "", got: "more differences not listed" });
  }
}

/** The same keys in another order: the public view must keep job.json's. */
function compareKeyOrder(expected: Record<string, unknown>, got: Record<string, unknown>, path: string, out: Collector): void {
  const [wantKeys, gotKeys] = [Object.keys(expected), Object.keys(got)];
  if (wantKeys.length === gotKeys.length && wantKeys.every((k) => Object.hasOwn(got, k)) && wantKeys.some((k, i) => gotKeys[i] !== k)) {
    out.add(`${path} (key order)`, wantKeys.join(", "), gotKeys.join(", "));
  }
}

/** Deep equality with Object.is on leaves; records the first difference on each path. */
function compareValue(expected: unknown, got: unknown, path: string, out: Collector): void {
  if (isObject(expected) && isObject(got)) {
    compareKeyOrder(expected, got, path, out);
    for (const key of Object.keys(expected)) {
      if (!Object.hasOwn(got, key)) out.add(join(path, key), show(expected[key]), "absent");
      else compareValue(expected[key], got[key], join(path, key), out);
    }
    for (const key of Object.keys(got)) {
      if (!Object.hasOwn(expected, key)) out.add(join(path, key), "absent", show(got[key]));
    }
    return;
  }
  if (Array.isArray(expected) && Array.isArray(got)) {
    if (expected.length !== got.length) {
      out.add(path, `an array of ${expected.length}`, `an array of ${got.length}`);
      return;
    }
    expected.forEach((v, i) => {
      compareValue(v, got[i], join(path, i), out);
    });
    return;
  }
  if (!Object.is(expected, got)) out.add(path, show(expected), show(got));
}

function compareAssets(expected: unknown, got: unknown, out: Collector, urls: AssetUrl[]): void {
  // The public read always answers with an `assets` object; a component without one lists none.
  const want = isObject(expected) ? Object.keys(expected) : [];
  if (!isObject(got)) {
    out.add("component.assets", `an object of ${want.length} URLs`, show(got));
    return;
  }
  if (isObject(expected)) compareKeyOrder(expected, got, "component.assets", out);
  for (const filename of want) {
    const field = join("component.assets", filename);
    if (!Object.hasOwn(got, filename)) {
      out.add(field, "a URL", "absent");
      continue;
    }
    const url = got[filename];
    if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
      out.add(field, "a URL", show(url));
      continue;
    }
    urls.push({ filename, url });
  }
  for (const filename of Object.keys(got)) {
    if (!want.includes(filename)) out.add(join("component.assets", filename), "absent (job.json does not list it)", show(got[filename]));
  }
}

/** Internal keys at any depth, and strings naming the jobs folder or any other absolute path. */
function scanForLeaks(value: unknown, path: string, jobsDir: string | undefined, out: Collector): void {
  if (typeof value === "string") {
    if (jobsDir && value.includes(jobsDir)) out.add(path, "no local path", `a string containing ${jobsDir}`);
    else if (namesAbsolutePath(value)) out.add(path, "no server path", show(value));
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      scanForLeaks(v, join(path, i), jobsDir, out);
    });
    return;
  }
  if (!isObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    const p = path === "" ? key : join(path, key);
    if (INTERNAL_KEYS.has(key) && path !== "") out.add(p, "not exposed (internal field)", show(v));
    scanForLeaks(v, p, jobsDir, out);
  }
}

export function comparePublicJob(pub: unknown, local: JobRecordInput, opts: CompareOptions = {}): PublicComparison {
  const out = new Collector(opts.maxMismatches ?? 50);
  const assets: AssetUrl[] = [];
  if (!isObject(pub)) {
    out.add("record", "a public record", pub === null ? "none (the job is not in the deployment)" : show(pub));
    return { mismatches: out.list, assets };
  }

  for (const key of Object.keys(pub)) {
    if (PUBLIC_KEYS.has(key)) continue;
    const what =
      key === "internalAssetType" || key === "type" ? "internal asset type" : key.startsWith("trace") ? "trace" : "internal field";
    out.add(key, `not exposed (${what})`, show(pub[key]));
  }

  if (pub.jobId !== local.jobId) out.add("jobId", show(local.jobId), show(pub.jobId));
  if (pub.status !== local.status) out.add("status", show(local.status), show(pub.status));
  const wantError = publicError(local.error, local.jobId);
  if (!Object.hasOwn(pub, "error")) out.add("error", show(wantError), "absent");
  else if (!Object.is(pub.error, wantError)) out.add("error", show(wantError), show(pub.error));

  const wantRetry = local.retryAfter !== undefined;
  const hasRetry = Object.hasOwn(pub, "retryAfter") && pub.retryAfter !== undefined;
  if (wantRetry !== hasRetry || (wantRetry && !Object.is(pub.retryAfter, local.retryAfter))) {
    out.add("retryAfter", show(local.retryAfter), hasRetry ? show(pub.retryAfter) : "absent");
  }

  const want = local.componentJson == null ? null : parsePythonJson(local.componentJson);
  let got: unknown = pub.component;
  if (typeof got === "string") {
    try {
      got = parsePythonJson(got);
    } catch (e) {
      out.add("component", "JSON text", `text that does not parse (${(e as Error).message})`);
      got = undefined;
    }
  } else if (got !== null) {
    out.add("component", "JSON text or null", show(got));
    got = undefined;
  }
  if (got === undefined) {
    // reported above
  } else if (!isObject(want)) {
    if (got !== null) out.add("component", show(want), show(got));
  } else if (!isObject(got)) {
    out.add("component", "an object", show(got));
  } else {
    compareKeyOrder(want, got, "component", out);
    const { assets: wantAssets, ...wantRest } = want;
    const { assets: gotAssets, ...gotRest } = got;
    compareValue(wantRest, gotRest, "component", out);
    compareAssets(wantAssets, gotAssets, out, assets);
  }

  scanForLeaks({ ...pub, component: got ?? null }, "", opts.jobsDir, out);
  return { mismatches: out.list, assets };
}
