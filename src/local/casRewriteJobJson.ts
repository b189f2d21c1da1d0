/**
 * Rewrites `<job>/job.json` by compare-and-swap, so that a pipeline update is never lost:
 *
 *   1. open job.json (O_NOFOLLOW) and read its bytes and stat from that descriptor; the
 *      descriptor stays open to the end, so the inode (and its number) cannot be freed and
 *      reused by the pipeline's next temp file while we compare inode numbers;
 *   2. let the caller build the new text from the old (or decide there is nothing to do);
 *   3. write it to `.celstate-sync-<random>.tmp` in the same folder (same file system, so the
 *      rename is atomic; a dotfile, so our watcher skips it, and not `tmp*`, so it is never
 *      mistaken for the pipeline's), with the old file's mode, and fsync it;
 *   4. re-read job.json: same inode, size, mtime, ctime and bytes as in step 1, or delete the
 *      temp file and start over from step 1 (bounded, then "raced-gave-up");
 *   5. synchronously and back to back: no fresh pipeline temp file (`tmp*`, younger than 30 s)
 *      in the folder, job.json still the inode of step 1;
 *   6. exchange the temp file and job.json in one step (`renameat2` RENAME_EXCHANGE, see
 *      `exchangeIn`): job.json never stops existing, and what comes out under the temp name is
 *      checked to be the inode of step 1 before it is deleted; a version we did not see is put
 *      back. Where the exchange is unavailable, the older `swapIn` (set aside, check, link in).
 *      Then fsync the folder.
 *
 * An unparsable job.json is never rewritten: the builder is not even called.
 *
 * Why step 6 and not a plain rename: POSIX has no "rename if the target is still X", and a plain
 * rename after the last look loses a pipeline write that lands in the few system calls between
 * them (seen under load in the race test). The exchange closes that window without ever
 * unlinking anything it has not checked: nothing is deleted before it is known to be the
 * version we read. The fallback closes it too, at the price of a few microseconds without a
 * job.json (a reader doing `exists()` then `open()` can fail then), and needs hard links.
 *
 * Also: the file renamed into place is owned by the daemon's user (root restores the owner),
 * and an in-place writer (not the pipeline) is caught by the size/mtime/bytes checks.
 */
import { randomBytes } from "node:crypto";
import { closeSync, linkSync, lstatSync, readdirSync, renameSync, type Stats, unlinkSync } from "node:fs";
import { open, unlink } from "node:fs/promises";
import path from "node:path";
import { SyncError } from "../errors/SyncError.js";
import { assertJobId } from "./assertJobId.js";
import { isPipelineTempName } from "./defaultAssetRules.js";
import { errnoOf, fsError } from "./fsError.js";
import { exchangePaths } from "./exchangePaths.js";
import { decodeJobJson, type JobJsonRead, jobJsonRelPath, type JobJsonSnapshot, openJobJsonSync, readJobJsonSync } from "./openJobJson.js";
import { parsePythonJson } from "./pythonJson.js";
import { PIPELINE_TEMP_FRESH_MS } from "../timing.js";

export const CAS_TEMP_PREFIX = ".celstate-sync-";
export const CAS_TEMP_SUFFIX = ".tmp";
export const DEFAULT_CAS_ATTEMPTS = 20;

export type CasHooks = {
  /** After the temp file is written, before the re-read of job.json (tests race here). */
  beforeRecheck?: (attempt: number) => void | Promise<void>;
  /** After the re-read matched, before the last identity check and the rename. */
  beforeRename?: (attempt: number) => void | Promise<void>;
};

export type CasOptions = { maxAttempts?: number; hooks?: CasHooks };

/** What the builder decides for the current text: write this text, or stop with an outcome. */
export type CasDecision<T extends string> = { write: string } | { stop: T };

export type CasOutcome<T extends string> = "written" | "skipped-unparsable" | "raced-gave-up" | T;

function sameIdentity(a: Stats, b: Stats): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

export function casTempName(): string {
  return `${CAS_TEMP_PREFIX}${randomBytes(8).toString("hex")}${CAS_TEMP_SUFFIX}`;
}

async function writeTemp(tmpPath: string, text: string, like: Stats, where: { jobId: string; file: string }): Promise<void> {
  const handle = await open(tmpPath, "wx", 0o600).catch((e: unknown) => {
    throw fsError(e, { ...where, action: "creating the temp file for job.json" });
  });
  try {
    await handle.writeFile(text, "utf8");
    // The pipeline creates job.json with its own mode (mkstemp: 0600); keep whatever it is.
    await handle.chmod(like.mode & 0o7777);
    if (process.getuid?.() === 0 && (like.uid !== 0 || like.gid !== 0)) {
      await handle.chown(like.uid, like.gid).catch(() => undefined);
    }
    await handle.sync();
  } catch (e) {
    throw fsError(e, { ...where, action: "writing the temp file for job.json" });
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** True if job.json is still exactly the file of the snapshot (identity and bytes). */
function stillSame(jobDir: string, jobId: string, snap: JobJsonSnapshot): boolean {
  let again: JobJsonRead;
  try {
    // The snapshot's descriptor is still open, so its inode number cannot have been reused.
    again = readJobJsonSync(jobDir, jobId);
  } catch (e) {
    // Gone or being written: not the same; the next round reports it properly.
    if (e instanceof SyncError && (e.code === "JOB_VANISHED" || e.code === "FILE_CHANGED")) return false;
    throw e;
  }
  return sameIdentity(again.stat, snap.stat) && again.bytes.equals(snap.bytes);
}

/**
 * True if the pipeline is between creating its `tmp<random>` and `os.replace`-ing it over
 * job.json. Its rename is the one event the last identity check cannot see coming; its temp
 * file can be seen for the whole time it is being written. Synchronous: part of step 5.
 */
export function pipelineWriteInFlight(jobDir: string, nowMs = Date.now()): boolean {
  let names: string[];
  try {
    names = readdirSync(jobDir);
  } catch {
    return false;
  }
  for (const name of names) {
    if (!isPipelineTempName(name)) continue;
    const st = lstatSync(path.join(jobDir, name), { throwIfNoEntry: false });
    if (st?.isFile() && nowMs - st.mtimeMs < PIPELINE_TEMP_FRESH_MS) return true;
  }
  return false;
}

/**
 * Step 6 where the exchange is unavailable: puts the temp file in place without ever overwriting a version of job.json we have not
 * seen. The current job.json is first renamed aside (atomic, whatever version it is at that
 * instant), and only if the version set aside is the one we read is the new file linked in with
 * `link`, which fails rather than overwrite a job.json the pipeline created meanwhile. A version
 * the pipeline slipped in before the set-aside is linked back. So every pipeline write either
 * stays, is put back, or is superseded by a newer pipeline write; the price is a window of a
 * few microseconds in which job.json does not exist (a reader sees ENOENT and retries; our own
 * reads treat it as transient). Returns false when the pipeline won the race (start over).
 */
function swapIn(jobDir: string, target: string, tmpPath: string, read: Stats, where: { jobId: string; file: string }): boolean {
  const aside = path.join(jobDir, `${CAS_TEMP_PREFIX}${randomBytes(6).toString("hex")}.prev`);
  try {
    renameSync(target, aside);
  } catch (e) {
    if (errnoOf(e) === "ENOENT") return false;
    throw fsError(e, { ...where, action: "setting job.json aside" });
  }
  try {
    const moved = lstatSync(aside);
    // Not `sameIdentity`: the rename itself moved the inode's ctime. The inode number is safe to
    // trust because our descriptor from step 1 keeps that inode alive.
    const same = moved.ino === read.ino && moved.dev === read.dev && moved.size === read.size && moved.mtimeMs === read.mtimeMs;
    if (!same) {
      // The pipeline replaced job.json after our last look: its version goes back, unless it
      // has already written an even newer one.
      linkUnlessExists(aside, target, where);
      return false;
    }
    // EEXIST: the pipeline wrote while job.json was aside; its write is newer than our base.
    return linkUnlessExists(tmpPath, target, where);
  } finally {
    try {
      unlinkSync(aside);
    } catch {
      // already gone
    }
  }
}

/**
 * Step 6 with the atomic exchange. Afterwards job.json is our new file and `tmpPath` names what
 * job.json was; the caller deletes `tmpPath` in any case. True when that was the version we
 * read. Otherwise the pipeline replaced job.json after the last look: its version goes back
 * (unless it has already written an even newer one over ours), and false says start over.
 * "unsupported" when the exchange cannot be used here.
 */
function exchangeIn(target: string, tmpPath: string, read: Stats, where: { jobId: string; file: string }): boolean | "unsupported" {
  const ours = lstatSync(tmpPath).ino;
  const swap = () => {
    try {
      return exchangePaths(tmpPath, target);
    } catch (e) {
      throw fsError(e, { ...where, action: "exchanging job.json with its new version" });
    }
  };
  if (swap() !== "exchanged") return "unsupported";
  const out = lstatSync(tmpPath);
  if (out.ino === read.ino && out.dev === read.dev && out.size === read.size && out.mtimeMs === read.mtimeMs) return true;
  // Ours is in place over a pipeline write we never saw. If it still is, swap back; a write
  // the pipeline lands in between is at `tmpPath` then, and is swapped in as the newest.
  if (lstatSync(target, { throwIfNoEntry: false })?.ino === ours) {
    swap();
    if (lstatSync(tmpPath, { throwIfNoEntry: false })?.ino !== ours) swap();
  }
  return false;
}

function linkUnlessExists(from: string, to: string, where: { jobId: string; file: string }): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (e) {
    if (errnoOf(e) === "EEXIST") return false;
    throw fsError(e, { ...where, action: "linking the new job.json in place" });
  }
}

async function syncFolder(dir: string): Promise<void> {
  // Makes the rename itself durable; not possible everywhere (Windows), so best effort.
  const handle = await open(dir, "r").catch(() => null);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}

export async function casRewriteJobJson<T extends string>(
  jobDir: string,
  jobId: string,
  build: (text: string, raw: Record<string, unknown>) => CasDecision<T>,
  { maxAttempts = DEFAULT_CAS_ATTEMPTS, hooks = {} }: CasOptions = {},
): Promise<CasOutcome<T>> {
  assertJobId(jobId);
  const file = jobJsonRelPath(jobId);
  const where = { jobId, file };
  const target = path.join(jobDir, "job.json");

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let snap: JobJsonSnapshot;
    try {
      snap = openJobJsonSync(jobDir, jobId);
    } catch (e) {
      // Caught mid-write by an in-place writer: just look again.
      if (e instanceof SyncError && e.code === "FILE_CHANGED") continue;
      throw e;
    }
    try {
      const text = decodeJobJson(snap.bytes);
      if (text === null) return "skipped-unparsable";
      let raw: unknown;
      try {
        raw = parsePythonJson(text);
      } catch {
        return "skipped-unparsable";
      }
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return "skipped-unparsable";

      const decision = build(text, raw as Record<string, unknown>);
      if ("stop" in decision) return decision.stop;

      const tmpPath = path.join(jobDir, casTempName());
      await writeTemp(tmpPath, decision.write, snap.stat, where);
      try {
        await hooks.beforeRecheck?.(attempt);
        if (!stillSame(jobDir, jobId, snap)) continue;
        await hooks.beforeRename?.(attempt);
        // The last look and the rename are synchronous on purpose: back to back on this
        // thread, with no event-loop turn and no wait for a busy libuv pool (hashing uploads
        // can keep it full for milliseconds) between them. Two syscalls, microseconds.
        if (pipelineWriteInFlight(jobDir)) continue;
        const last = lstatSync(target, { throwIfNoEntry: false });
        if (last === undefined || !sameIdentity(last, snap.stat)) continue;
        let swapped = exchangeIn(target, tmpPath, snap.stat, where);
        if (swapped === "unsupported") swapped = swapIn(jobDir, target, tmpPath, snap.stat, where);
        if (!swapped) continue;
        await syncFolder(jobDir);
        return "written";
      } finally {
        // Whatever the temp name holds now goes: after an exchange, the old job.json (checked
        // above to be the version we read) or our file put back; after a link, a second name.
        await unlink(tmpPath).catch((e: unknown) => {
          if (errnoOf(e) !== "ENOENT") throw fsError(e, { ...where, action: "removing the temp file" });
        });
      }
    } finally {
      closeSync(snap.fd);
    }
  }
  return "raced-gave-up";
}
