/**
 * Every fixed duration the daemon uses, in one place, each with why it has its value. What an
 * operator may tune is in the configuration (src/config/configSchema.ts: timeouts, settle time,
 * backoff, rescan interval, debounce, drain); these are the ones that follow from how the
 * pipeline, Convex or the operating system behave, not from a deployment's taste.
 */

// ── The pipeline ────────────────────────────────────────────────────────────────────────────

/** A pipeline temp file younger than this is a write in progress; older ones are crash leftovers. */
export const PIPELINE_TEMP_FRESH_MS = 30_000;

/**
 * A file the component lists that has not appeared yet is looked for again after this (or the
 * settle time, if longer): the pipeline writes outputs within a stage, well under a second.
 */
export const LISTED_FILE_RECHECK_MS = 250;

/** A PNG without its `IEND` trailer yet is looked at again after at least this (or the settle time). */
export const TRAILER_RECHECK_MS = 50;

/** Delay before re-running a job whose job.json changed while it was being committed, so a burst lands as one more commit. */
export const CHANGED_DURING_RERUN_MS = 25;

// ── The watcher ─────────────────────────────────────────────────────────────────────────────

/** How long after `watchJob` a follow-up reconcile catches writes that raced the new watch. */
export const WATCH_SETTLE_MS = 300;

/** A job whose files never stop changing is still reconciled at least this often. */
export const DEBOUNCE_MAX_WAIT_MS = 250;

/** Polling backend: stat interval per watched path (chokidar's default for non-binary files). */
export const POLL_INTERVAL_MS = 1_000;

/** Polling backend: past chokidar's 50 ms `change` throttle, so a change it dropped is seen by a look after the window. */
export const TRAILING_CHANGE_MS = 60;

/** Unwatching quiet jobs runs every quarter of the active window, but not more often than this. */
export const SWEEP_MIN_INTERVAL_MS = 1_000;

/** While the start-up waits for every job's first result, how often it notices a stop meanwhile. */
export const STOP_CHECK_MS = 250;

/**
 * The rescan queues a job whose job.json, outputs/ or trace/ changed (ctime) since this long
 * before the previous pass began: the kernel stamps files from a coarse clock (a tick, a few
 * ms, behind the one `Date.now` reads), some file systems round times to a second or two, and
 * a small clock step must not hide a change. Costs only a second look at jobs changed just then.
 */
export const RESCAN_CLOCK_SLACK_MS = 2_000;

/**
 * A pass over every job (the start-up's triage, the rescan) gives the event loop a turn after
 * this much synchronous work: a live event waits about this long behind it at most (the goal
 * is no block over 20 ms; garbage collection and the event's own work come on top), while the
 * pass pays one `setImmediate` per slice (2.2 µs measured here, 0.05 % of a 5 ms slice).
 */
export const PASS_SLICE_MS = 5;

/** The stuck-jobs report is rewritten at most this often (jobs tend to get stuck together). */
export const STUCK_REPORT_DELAY_MS = 1_000;

// ── The deployment ──────────────────────────────────────────────────────────────────────────

/**
 * Longest pause between two probes while the deployment is down: a paused deployment that is
 * resumed is noticed within this time however long the pause was (the goal is everything
 * mirrored within 10 s of the resume), at the cost of one light request per 5 s meanwhile.
 */
export const OUTAGE_PROBE_MAX_MS = 5_000;

/** First pause between the start-up's looks at a deployment that does not answer yet (doubling up to OUTAGE_PROBE_MAX_MS). */
export const STARTUP_PROBE_BASE_MS = 500;

/**
 * Pause between two looks of the light probe (one handshake query each). With
 * BACKEND_PROBE_TIMEOUT_MS it bounds how late `backend_up` and `/readyz` show an outage of an
 * idle daemon: at most 5 + 5 s, and 1 s more for an answer the engine's DeploymentProbe reuses,
 * inside the 15 s an operator's alert and a supervisor's readiness check can count on; and the
 * same 5 s as OUTAGE_PROBE_MAX_MS, so a resumed deployment shows as soon as the queue notices
 * it. The cost: 12 small queries a minute, about 17,000 a day, which a deployment's function-call
 * quota should allow for.
 */
export const BACKEND_PROBE_INTERVAL_MS = 5_000;

/**
 * A look that has not answered within this counts as not answering. A healthy handshake takes
 * tens of milliseconds; one that drops packets would otherwise hold the verdict for a whole
 * `requestTimeoutMs` (30 s by default).
 */
export const BACKEND_PROBE_TIMEOUT_MS = 5_000;

/** Beyond this the failure marker's and the pipeline's timestamps disagree noticeably with the server's (`doctor`). */
export const MAX_CLOCK_SKEW_MS = 2_000;

/**
 * A look at the deployment answered this recently is reused by whoever asks next (the outage
 * gate, the light probe, a start-up): many jobs failing at once cost one handshake, not many.
 */
export const PROBE_REUSE_MS = 1_000;

/** Refresh an upload URL well before the backend's one-hour validity runs out. */
export const UPLOAD_URL_TTL_MS = 45 * 60_000;

/**
 * A blob uploaded for a commit that did not go through is reused at most this long after its
 * upload: far inside the collector's 6-hour grace period, so it is still there.
 */
export const UNCOMMITTED_REUSE_MS = 60 * 60_000;

/**
 * State reads of single jobs asked for within this window go out as one batched query: long
 * enough to gather the reconciles a batch of events starts together, too short to be noticed.
 */
export const STATE_BATCH_WINDOW_MS = 2;

/**
 * Commits reaching their turn within this window go out as one `sync:commitMany`: the jobs a
 * batch of events starts together share their commit, and a lone commit leaves after this long
 * at most. The daemon's live commits wait for nothing else (see CommitBatcher's policies).
 */
export const COMMIT_BATCH_WINDOW_MS = 2;

/**
 * A backfill's commit waits for the commits of reconciles still uploading (which said theirs is
 * coming) until COMMIT_BATCH_TARGET of them are gathered, none is coming any more, or the oldest
 * has waited this long. Waiting costs a backfill no throughput (the job gives its queue slot
 * back while its commit waits and flies), so this only bounds how late one job's commit is:
 * a few round trips to a deployment, however slow the flow of commits. At 100 ms a loaded
 * machine (uploads slowed by other work) split batches: 100 jobs took 17–21 commit calls
 * against 13–15 at 250 ms; the backfill's rate was the same within one run's noise (100 jobs
 * at 25 ms: 16.5× the seed flow at 100 ms, 16.6× at 250 ms).
 */
export const COMMIT_MAX_WAIT_MS = 250;

/**
 * A backfill's batch leaves as soon as it holds this many commits: enough that commits cost
 * well under 0.2 calls a job, few enough that a batch forms within a few round trips of a
 * 16-job backfill, and leaves while the next gathers (see COMMIT_LANES).
 */
export const COMMIT_BATCH_TARGET = 8;

// ── The process ─────────────────────────────────────────────────────────────────────────────

/**
 * After a backfill has printed its summary, a second SIGINT/SIGTERM within this is acknowledged
 * rather than left to kill the process before it exits 130/143.
 */
export const SIGNAL_ACK_MS = 2_000;

/** Default time given to in-flight work when a backfill is stopped (SIGINT/SIGTERM). */
export const BACKFILL_DRAIN_MS = 5_000;

/**
 * The instance lock goes stale this long after its holder stopped refreshing it (proper-lockfile
 * refreshes at half of it): a crashed daemon's lock is taken over within 15 s.
 */
export const LOCK_STALE_MS = 15_000;

/** How long a lock without holder.json is given to get one before it counts as a crash leftover. */
export const HOLDER_GRACE_MS = 2_000;

/** How often a lock without holder.json is looked at again during HOLDER_GRACE_MS. */
export const HOLDER_POLL_MS = 100;
