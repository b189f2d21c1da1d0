/**
 * The configuration schema: the single source of truth for every setting, its default and its
 * meaning. Resolved once (defaults < config file < environment < flags) and frozen.
 * The JSON Schema for `celstate-sync.config.json` is generated from this.
 */
import { z } from "zod";
import { ASSET_ROLES } from "../../convex/lib/roles.js";
import { DEFAULT_ASSET_RULES } from "../local/defaultAssetRules.js";

const ms = (what: string, def: number) => z.number().int().min(0).default(def).describe(`${what} (milliseconds). Default ${def}.`);

export const assetRuleSchema = z
  .object({
    match: z.string().min(1).describe("Glob relative to the job folder, e.g. `outputs/*_debug.png`. First match wins."),
    role: z.enum(ASSET_ROLES),
    contentType: z.string().min(1).describe("Content-Type stored with the blob, e.g. `image/png`."),
  })
  .strict();

/** A token shorter than this is refused: it is guessable, and too short to mask reliably. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Settings whose value is never shown: not by `config`, not in an error message, not in a log.
 * Masked by key, never by searching other values for their text.
 */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set(["token"]);

export const configSchema = z
  .object({
    $schema: z.string().optional().describe("Path of the JSON Schema, for editors."),
    jobsDir: z.string().min(1).default("jobs").describe("The pipeline's `jobs/` folder. Default `jobs`."),
    convexUrl: z
      .url({ protocol: /^https?$/, error: "expected an http(s) URL like https://happy-otter-123.convex.cloud" })
      // A deployment URL carries no secret: a key pasted into it would be shown wherever the URL is.
      .refine((u) => {
        const url = new URL(u);
        return url.username === "" && url.password === "" && url.search === "" && url.hash === "";
      }, "a deployment URL has no credentials, query or fragment (like https://happy-otter-123.convex.cloud)")
      .optional()
      .describe("The Convex deployment URL (env CONVEX_URL). No default: without it the daemon exits 2."),
    token: z
      .string()
      .min(MIN_TOKEN_LENGTH, `too short: at least ${MIN_TOKEN_LENGTH} characters (make one with \`openssl rand -hex 32\`)`)
      .optional()
      .describe(
        `The service token (env CELSTATE_SYNC_TOKEN), at least ${MIN_TOKEN_LENGTH} characters. Keep it out of this file: use the environment.`,
      ),
    // 16: a deployment on a small Convex plan runs 16 mutations at once (one commit per job in
    // flight at most), and at 25 ms a round trip 8 jobs in flight left the daemon waiting.
    concurrency: z.number().int().min(1).max(256).default(16).describe("Jobs reconciled at once. Default 16."),
    maxBytesInFlight: z
      .number()
      .int()
      .min(1)
      .default(64 * 1024 * 1024)
      .describe("Upload bytes in flight at once across all jobs. Default 64 MiB."),
    requestTimeoutMs: ms("Timeout of one query or mutation", 30_000),
    uploadTimeoutMs: ms("Timeout of one file upload; Convex cuts an upload request at 2 minutes", 120_000),
    settleMs: ms("A file modified more recently than this is still being written and waits (a PNG already ending with IEND does not)", 100),
    settleWaitMs: ms("backfill: how long a job whose files are still being written is waited for before it is reported pending", 10_000),
    checksum: z.boolean().default(false).describe("Compare files by sha256 instead of size + mtime. Default false."),
    prune: z
      .boolean()
      .default(false)
      .describe("Remove remote assets whose local file disappeared (rclone sync). Default false (rclone copy)."),
    markFailures: z.boolean().default(true).describe("Write the failure marker into job.json. Default true."),
    retry: z
      .object({
        baseMs: ms("First backoff step", 500),
        maxMs: ms("Longest backoff step", 30_000),
        maxAttempts: z.number().int().min(1).default(10).describe("Transient attempts before giving up. Default 10."),
        maxRetryMs: ms("Time since the first failure before giving up", 15 * 60_000),
      })
      .strict()
      .prefault({}),
    stateBatchSize: z.number().int().min(1).max(128).default(128).describe("Job ids per remote-state query. Default 128."),
    assets: z
      .array(assetRuleSchema)
      .min(1)
      .default(() => DEFAULT_ASSET_RULES.map((r) => ({ ...r })))
      .describe("Which files sync, under which role."),
    watch: z
      .object({
        rescanIntervalMs: ms("Full rescan of the jobs folder, the safety net behind events", 5 * 60_000),
        activeWindowMs: ms("How long a finished, in-sync job stays watched after its last change", 2 * 60_000),
        maxWatchedJobs: z.number().int().min(1).default(500).describe("Job folders watched at once. Default 500."),
        debounceMs: ms("A job is reconciled this long after its last file event, so a burst of writes syncs once", 20),
        drainMs: ms("On SIGTERM or SIGINT, time given to in-flight work before it is abandoned and picked up at the next start", 10_000),
        polling: z
          .boolean()
          .default(false)
          .describe(
            "Watch by stat polling from the start (each watched path looked at once a second) instead of inotify: for a jobs folder on a file system whose changes inotify does not report (NFS, SMB, some container or VM mounts). Default false.",
          ),
      })
      .strict()
      .prefault({}),
    healthPort: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .optional()
      .describe("Local port for /healthz, /readyz and /metrics (127.0.0.1 only). Off by default."),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.retry.maxMs < c.retry.baseMs) {
      ctx.addIssue({
        code: "custom",
        path: ["retry", "maxMs"],
        message: `must be >= retry.baseMs (${c.retry.baseMs}), got ${c.retry.maxMs}`,
      });
    }
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = Readonly<z.output<typeof configSchema>>;
