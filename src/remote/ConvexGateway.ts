/**
 * The daemon's only view of Convex: a small interface, so the engine can run against the real
 * client (ConvexHttpGateway) or a fake in unit tests.
 */
import type { Readable } from "node:stream";
import type { AssetInput, CommitResult, JobRecordInput, RemoteJobState } from "../../convex/lib/jobStore.js";
import type { TraceInput } from "../../convex/lib/timeline.js";

export type { AssetInput, CommitResult, JobRecordInput, RemoteJobState };

export type CommitArgs = {
  job: JobRecordInput;
  recordHash: string;
  /** The fingerprint of the job.json bytes the record was read from (`sourceHashOf`). */
  sourceHash?: string;
  assets: AssetInput[];
  removeFilenames?: string[];
  /** The trace's events for the job's timeline (src/local/traceEvents.ts). */
  trace?: TraceInput;
};

export type UploadBody = {
  /** Opens a fresh stream of exactly `bytes` bytes; called once per attempt (unless `data`). */
  open: () => Readable | Promise<Readable>;
  /** The bytes themselves, when already in memory: sent as they are, `open` is not called. */
  data?: Uint8Array;
  bytes: number;
  sha256Hex: string;
  contentType: string;
  /** The file, as messages name it (`<jobId>/outputs/<name>`). */
  file?: string;
};

export type PublicJob = {
  jobId: string;
  status: string;
  retryAfter?: number;
  error: string | null;
  /** The component's JSON text, asset URLs in place of its placeholders (convex/jobs.ts). */
  component: string | null;
};

/** A job's row as the deployment stores it, without the component (`sync:getRecord`). */
export type StoredRecord = Record<string, unknown> & { jobId: string; createdAt: number; updatedAt: number; updatedAtUs: number };

/** One event of a job's timeline (`sync:timeline`, convex/lib/timeline.ts). */
export type TimelineEvent = { kind: string; payload: unknown; createdAt: number };

export type GatewayStats = { requests: number; byFunction: Record<string, number>; uploads: number; bytesUploaded: number };

export interface ConvexGateway {
  handshake(): Promise<{ apiVersion: number; serverTimeMs: number }>;
  getStates(jobIds: readonly string[]): Promise<Array<RemoteJobState | null>>;
  generateUploadUrls(count: number): Promise<string[]>;
  /** POSTs the body to an upload URL with its Digest; resolves to the storage id. */
  upload(url: string, body: UploadBody, signal?: AbortSignal): Promise<string>;
  commit(args: CommitArgs): Promise<CommitResult>;
  /**
   * Several jobs' commits in one mutation (`sync:commitMany`), one result per job in order. One
   * transaction: a refusal of any job throws, and then nothing of the batch was written.
   */
  commitMany(commits: CommitArgs[]): Promise<CommitResult[]>;
  getPublic(jobId: string): Promise<PublicJob | null>;
  /** The stored row (token checked; operators' view). */
  getRecord(jobId: string): Promise<StoredRecord | null>;
  /** The job's timeline, oldest first (token checked). */
  timeline(jobId: string): Promise<TimelineEvent[]>;
  collectGarbage(graceMs: number): Promise<{ scanned: number; deleted: number; more: boolean }>;
  stats(): GatewayStats;
}
