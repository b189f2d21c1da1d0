/**
 * The shapes of a job as it lies on disk, as the local store reports it: which files are
 * assets (and in which role), the parsed record, and the failure marker if one is there.
 * Types only; the readers that fill them live next to this file.
 */
import type { JobRecordInput } from "../../convex/lib/jobStore.js";
import type { AssetRole } from "../../convex/lib/roles.js";

export type { AssetRole };

export type AssetRule = {
  /** picomatch glob relative to the job folder, posix separators, e.g. `outputs/*_debug.png`. */
  match: string;
  role: AssetRole;
  contentType: string;
};

export type LocalFile = {
  role: AssetRole;
  /** The remote name: the basename. */
  filename: string;
  /** Posix path relative to the job folder. */
  relPath: string;
  absPath: string;
  size: number;
  mtimeMs: number;
  ino: number;
  contentType: string;
};

export type FailureMarker = {
  at: string;
  attempts: number;
  reason: string;
  retryable: boolean;
  /** The state the marker replaced; a key is absent when job.json did not have it. */
  previous: { status: unknown; progress_stage: unknown; error: unknown; component?: unknown; retry_after?: unknown };
};

export type LocalJob = {
  jobId: string;
  dir: string;
  jobJson: { path: string; size: number; mtimeMs: number; ino: number; text: string };
  /** job.json as parsed, unknown extra keys included. */
  raw: Record<string, unknown>;
  record: JobRecordInput;
  recordHash: string;
  /** The fingerprint of job.json's bytes (`sourceHashOf`), kept beside the record remotely. */
  sourceHash: string;
  /** status is succeeded or failed: the pipeline will not write more. */
  settled: boolean;
  /** The failure marker, while job.json still shows its state (one that only rode along in a pipeline rewrite is null). */
  marker: FailureMarker | null;
  files: LocalFile[];
  /** Filenames that `component.assets` lists. */
  listed: string[];
};
