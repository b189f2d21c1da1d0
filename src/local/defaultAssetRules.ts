/**
 * Which files in a job folder are assets, and which paths are never ours to touch.
 * Rules are tried in order and the first match wins, so the specific `_debug`/`_mask` names
 * come before the catch-all `*.png`.
 */
import type { AssetRule } from "./types.js";

export const DEFAULT_ASSET_RULES: readonly AssetRule[] = Object.freeze([
  { match: "outputs/*_debug.png", role: "debug_png", contentType: "image/png" },
  { match: "outputs/*_mask.png", role: "mask_png", contentType: "image/png" },
  { match: "outputs/*.png", role: "output_png", contentType: "image/png" },
  { match: "trace/trace.json", role: "trace_json", contentType: "application/json" },
]);

/**
 * True for paths (posix, relative to the job folder) that are never synced nor watched:
 * - `studio/…`: the white/black passes, local only;
 * - any basename starting with `tmp`: the pipeline's atomic-write temp files (`tmp<random>`
 *   next to job.json, `trace/tmp<random>.json`);
 * - any dotfile or dot-folder, which includes our own temp file for the failure marker
 *   (`.celstate-sync-<random>.tmp`).
 */
export function isIgnoredPath(relPath: string): boolean {
  if (relPath === "") return false;
  const segments = relPath.split("/");
  if (segments[0] === "studio") return true;
  if (segments.some((s) => s.startsWith("."))) return true;
  return (segments[segments.length - 1] ?? "").startsWith("tmp");
}
