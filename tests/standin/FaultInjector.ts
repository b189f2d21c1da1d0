/**
 * Fault specs for the stand-in and the decision, per request, of which ones apply.
 *
 * A spec is active for its next `count` matching requests, for `durationMs` from when it was
 * set, both (whichever ends first), or until cleared when it has neither. `path` narrows it to
 * one function ("sync:commit"), to uploads ("upload") or to storage downloads ("download").
 * Several specs may be active: the latencies of every matching spec add up, then the first
 * matching terminal fault (refuse, status, dropUpload, failCommit, paused) decides the request. A spec
 * uses up one of its `count` only on a request it actually affected.
 *
 * Owns only the list of specs and the clock reads; the server carries the faults out.
 */
import { z } from "zod";

export const faultSpecSchema = z
  .strictObject({
    /** Connections refused (see README: listener closed for a pure duration, else reset). */
    refuse: z.literal(true).optional(),
    /** Answer with this HTTP status instead of running anything. */
    status: z.union([z.literal(500), z.literal(503), z.literal(429)]).optional(),
    /** Seconds in the `Retry-After` header of a 429; default 1. */
    retryAfterS: z.number().int().min(0).optional(),
    /** Added before the request is handled. */
    latencyMs: z.number().min(0).optional(),
    /**
     * Read upload bodies at most this fast (bytes per second): TCP backpressure slows the client
     * down as a slow link would. Not terminal; the slowest matching spec wins.
     */
    uploadBytesPerSec: z.number().positive().optional(),
    /** Destroy the socket midway through an upload body. */
    dropUpload: z.literal(true).optional(),
    /**
     * Answer a mutation as Convex does when its optimistic concurrency control gave up: 503
     * `{"code":"OptimisticConcurrencyControlFailure",…}`, nothing run.
     */
    occ: z.literal(true).optional(),
    /** Apply to each matching request with this probability (default 1). */
    probability: z.number().gt(0).max(1).optional(),
    /** Fail `sync:commit` or `sync:commitMany` with a 500 before running it: a failed commit changes nothing. */
    failCommit: z.literal(true).optional(),
    /**
     * Answer like a paused, disabled or over-quota deployment: every function call 200
     * `{"status":"error","errorMessage":"[Request ID: …] Server Error"}` without errorData,
     * every upload and download 400 `{"code":"BackendIsNotRunning",…}`. Nothing runs.
     */
    paused: z.literal(true).optional(),
    count: z.number().int().min(1).optional(),
    durationMs: z.number().min(0).optional(),
    path: z.string().min(1).optional(),
  })
  .refine(
    (f) =>
      f.refuse ||
      f.status ||
      f.latencyMs !== undefined ||
      f.uploadBytesPerSec !== undefined ||
      f.dropUpload ||
      f.failCommit ||
      f.paused ||
      f.occ,
    {
      message: "a fault spec needs one of refuse, status, latencyMs, uploadBytesPerSec, dropUpload, failCommit, paused, occ",
    },
  );

export type FaultSpec = z.infer<typeof faultSpecSchema>;

/** The functions `failCommit` fails: a commit of one job, or of several. */
const COMMIT_FUNCTIONS = new Set(["sync:commit", "sync:commitMany"]);

/** What a request is, for matching: its fault path, whether it is an upload or a mutation. */
export type RequestKind = { faultPath: string; isUpload: boolean; isMutation?: boolean };

export type TerminalFault =
  | { kind: "refuse" }
  | { kind: "status"; status: 500 | 503 | 429; retryAfterS: number }
  | { kind: "dropUpload" }
  | { kind: "failCommit" }
  | { kind: "occ" }
  | { kind: "paused" };

export type FaultDecision = { latencyMs: number; uploadBytesPerSec: number | null; terminal: TerminalFault | null };

type ActiveSpec = { spec: FaultSpec; remaining: number; until: number };

export class FaultInjector {
  private specs: ActiveSpec[] = [];

  constructor(
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  add(spec: FaultSpec): void {
    this.specs.push({
      spec,
      remaining: spec.count ?? Number.POSITIVE_INFINITY,
      until: spec.durationMs === undefined ? Number.POSITIVE_INFINITY : this.now() + spec.durationMs,
    });
  }

  clear(): void {
    this.specs = [];
  }

  /** Specs still in force, as given. */
  active(): FaultSpec[] {
    this.prune();
    return this.specs.map((s) => s.spec);
  }

  /**
   * A pure-duration refusal without a path closes the listener; returns its end time (the
   * spec is then consumed), or null when there is none.
   */
  takeListenerOutage(): number | null {
    this.prune();
    const i = this.specs.findIndex(
      (s) => s.spec.refuse && s.spec.path === undefined && s.spec.count === undefined && s.spec.durationMs !== undefined,
    );
    if (i < 0) return null;
    const [s] = this.specs.splice(i, 1);
    return s!.until;
  }

  /** Connection-level refusal (no path): decided before any request is read. */
  refuseConnection(): boolean {
    this.prune();
    const s = this.specs.find((a) => a.spec.refuse && a.spec.path === undefined);
    if (s === undefined) return false;
    s.remaining--;
    return true;
  }

  decide(req: RequestKind): FaultDecision {
    this.prune();
    let latencyMs = 0;
    let uploadBytesPerSec: number | null = null;
    let terminal: TerminalFault | null = null;
    for (const a of this.specs) {
      const { spec } = a;
      if (spec.path !== undefined && spec.path !== req.faultPath) continue;
      if (spec.occ && !spec.refuse && !spec.paused && spec.status === undefined && req.isMutation !== true) continue;
      if (spec.probability !== undefined && this.random() >= spec.probability) continue;
      let used = false;
      if (spec.latencyMs !== undefined) {
        latencyMs += spec.latencyMs;
        used = true;
      }
      if (spec.uploadBytesPerSec !== undefined && req.isUpload) {
        uploadBytesPerSec = Math.min(uploadBytesPerSec ?? Number.POSITIVE_INFINITY, spec.uploadBytesPerSec);
        used = true;
      }
      if (terminal === null) {
        if (spec.refuse) terminal = { kind: "refuse" };
        else if (spec.paused) terminal = { kind: "paused" };
        else if (spec.status !== undefined) {
          terminal = { kind: "status", status: spec.status, retryAfterS: spec.retryAfterS ?? 1 };
        } else if (spec.dropUpload && req.isUpload) terminal = { kind: "dropUpload" };
        else if (spec.failCommit && COMMIT_FUNCTIONS.has(req.faultPath)) terminal = { kind: "failCommit" };
        else if (spec.occ && req.isMutation === true) terminal = { kind: "occ" };
        if (terminal !== null) used = true;
      }
      if (used) a.remaining--;
    }
    return { latencyMs, uploadBytesPerSec, terminal };
  }

  private prune(): void {
    const now = this.now();
    this.specs = this.specs.filter((s) => s.remaining > 0 && s.until > now);
  }
}
