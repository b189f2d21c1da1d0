/**
 * Finds a job's asset files: lists only the folders the rules name (`outputs/`, `trace/`),
 * never follows a symlink, and refuses a job whose asset path is a symlink, a non-regular
 * file (a folder named `x.png`) or runs through a symlinked folder. A missing folder is
 * normal: the job is still running.
 *
 * The calls are synchronous: this runs for every job of a history on every re-check, and on
 * a local disk an lstat or a short listing costs microseconds, far less than the promise
 * round trip around it. Nothing here reads file contents.
 */
import { type Dirent, lstatSync, readdirSync, type Stats } from "node:fs";
import path from "node:path";
import { SyncError } from "../errors/SyncError.js";
import { compileAssetRules } from "./compileAssetRules.js";
import { isIgnoredPath } from "./defaultAssetRules.js";
import { errnoOf, fsError } from "./fsError.js";
import type { AssetRule, LocalFile } from "./types.js";

function unsafe(jobId: string, relPath: string, why: string): SyncError {
  return new SyncError("UNSAFE_PATH", `${relPath} ${why}`, { jobId, file: `${jobId}/${relPath}` });
}

/**
 * `name` is the record's, when it is known: roles of `<name>` rules depend on it. Without it
 * (before job.json is parsed), every file any rule could match is listed, in a provisional
 * role; `assignRoles` settles them once the name is known, without listing again.
 */
export function listJobFiles(jobDir: string, jobId: string, rules: readonly AssetRule[], name?: string | null): LocalFile[] {
  const compiled = compileAssetRules(rules);
  const found = new Map<string, LocalFile>();
  const ctx = (relPath: string, action: string) => ({ jobId, file: `${jobId}/${relPath}`, action });

  /** lstat that treats "gone" as null: files come and go while the pipeline works. */
  function lstatOrNull(relPath: string): Stats | null {
    try {
      return lstatSync(path.join(jobDir, relPath), { throwIfNoEntry: false }) ?? null;
    } catch (e) {
      const code = errnoOf(e);
      if (code === "ENOENT" || code === "ENOTDIR") return null;
      throw fsError(e, ctx(relPath, "lstat"));
    }
  }

  /** True if every folder on the way to `base` exists as a real folder; throws on a symlink. */
  function baseIsUsable(base: string): boolean {
    if (base === "") return true;
    const parts = base.split("/");
    for (let n = 1; n <= parts.length; n++) {
      const rel = parts.slice(0, n).join("/");
      const st = lstatOrNull(rel);
      if (st === null) return false;
      if (st.isSymbolicLink()) throw unsafe(jobId, rel, "is a symlink; asset folders must be real folders inside the job");
      if (!st.isDirectory()) throw unsafe(jobId, rel, "is not a folder");
    }
    return true;
  }

  function addCandidate(relPath: string, rule: AssetRule): void {
    const st = lstatOrNull(relPath);
    if (st === null) return;
    if (st.isSymbolicLink()) throw unsafe(jobId, relPath, "is a symlink; assets are never read through links");
    if (!st.isFile()) throw unsafe(jobId, relPath, `is not a regular file (${st.isDirectory() ? "a folder" : "a special file"})`);
    found.set(relPath, {
      role: rule.role,
      filename: path.posix.basename(relPath),
      relPath,
      absPath: path.join(jobDir, relPath),
      size: st.size,
      mtimeMs: st.mtimeMs,
      ino: st.ino,
      contentType: rule.contentType,
    });
  }

  function walk(base: string, depth: number): void {
    let entries: Dirent[];
    try {
      entries = readdirSync(path.join(jobDir, base), { withFileTypes: true });
    } catch (e) {
      const code = errnoOf(e);
      if (code === "ENOENT" || code === "ENOTDIR") return;
      throw fsError(e, ctx(base || ".", "listing the folder"));
    }
    for (const entry of entries) {
      const rel = base === "" ? entry.name : `${base}/${entry.name}`;
      if (isIgnoredPath(rel)) continue;
      const rule = compiled.match(rel, name);
      if (rule) {
        addCandidate(rel, rule);
        continue;
      }
      if (depth <= 1 || entry.isSymbolicLink()) continue;
      // Some file systems do not report entry types; ask lstat then.
      const known =
        entry.isDirectory() || entry.isFile() || entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice();
      const isDir = known ? entry.isDirectory() : lstatOrNull(rel)?.isDirectory() === true;
      if (isDir) walk(rel, depth - 1);
    }
  }

  for (const { base, depth } of compiled.walks) {
    if (baseIsUsable(base)) walk(base, depth);
  }

  const files = [...found.values()].sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  const byName = new Map<string, string>();
  for (const f of files) {
    const other = byName.get(f.filename);
    if (other !== undefined) {
      throw unsafe(jobId, f.relPath, `has the same remote name \`${f.filename}\` as ${other}; asset filenames must be unique per job`);
    }
    byName.set(f.filename, f.relPath);
  }
  return files;
}

/**
 * The roles of a listing made before the parse, now that the record's name is known: each file
 * in the role its first matching rule gives, and a file no rule takes with this name dropped.
 */
export function assignRoles(files: readonly LocalFile[], rules: readonly AssetRule[], name: string | null | undefined): LocalFile[] {
  const compiled = compileAssetRules(rules);
  const out: LocalFile[] = [];
  for (const f of files) {
    const rule = compiled.match(f.relPath, name ?? null);
    if (rule === null) continue;
    out.push(rule.role === f.role && rule.contentType === f.contentType ? f : { ...f, role: rule.role, contentType: rule.contentType });
  }
  return out;
}
