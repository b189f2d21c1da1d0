/**
 * Which files in a job folder are assets, and which paths are never ours to touch.
 *
 * Rules are tried in order and the first match wins. `<name>` in a rule stands for the record's
 * `name` exactly as written (any unicode, spaces, a leading `.`, `$` or `_`: it is user input),
 * so roles follow the pipeline's own naming: `<name>.png` is the output, `<name>_mask.png` the
 * mask, `<name>_debug.png` the overlay, whatever the name itself ends with (a job named
 * `panel_debug` has `panel_debug.png` as its output). The glob rules after them keep files
 * that do not carry the record's name (a record without one, an older run's file) in a role.
 */
import type { AssetRule } from "./types.js";

export const NAME_PLACEHOLDER = "<name>";

export const DEFAULT_ASSET_RULES: readonly AssetRule[] = Object.freeze([
  { match: "outputs/<name>.png", role: "output_png", contentType: "image/png" },
  { match: "outputs/<name>_mask.png", role: "mask_png", contentType: "image/png" },
  { match: "outputs/<name>_debug.png", role: "debug_png", contentType: "image/png" },
  { match: "trace/trace.json", role: "trace_json", contentType: "application/json" },
  { match: "outputs/*_debug.png", role: "debug_png", contentType: "image/png" },
  { match: "outputs/*_mask.png", role: "mask_png", contentType: "image/png" },
  { match: "outputs/*.png", role: "output_png", contentType: "image/png" },
]);

/**
 * What Python's `tempfile` creates: `tmp` and 8 characters of `[a-z0-9_]` (its random name
 * alphabet), plus the suffix the pipeline gives its trace's temp file. Nothing broader: an
 * output named `tmp_badge.png` or `tmpl_card.png` is a real asset.
 */
const PYTHON_TEMP_FILE = /^tmp[a-z0-9_]{8}(\.json)?$/;

/** The daemon's own files in a job folder: the marker's temp file and the swapped-out job.json. */
export const OWN_FILE_PREFIX = ".celstate-sync-";

/** True for a name the pipeline gives a temp file while it writes job.json or the trace. */
export function isPipelineTempName(name: string): boolean {
  return PYTHON_TEMP_FILE.test(name);
}

/**
 * True for paths (posix, relative to the job folder) that are never synced nor watched:
 * - `studio/…`: the white/black passes, local only;
 * - the pipeline's temp files: `tmp<8 chars>` next to job.json, `trace/tmp<8 chars>.json`;
 * - the daemon's own `.celstate-sync-*` files next to job.json.
 * Everything else is looked at (an output may well be called `.hidden_gem.png`).
 */
export function isIgnoredPath(relPath: string): boolean {
  if (relPath === "") return false;
  const segments = relPath.split("/");
  if (segments[0] === "studio") return true;
  if (segments.length === 1) return isPipelineTempName(relPath) || relPath.startsWith(OWN_FILE_PREFIX);
  return segments.length === 2 && segments[0] === "trace" && isPipelineTempName(segments[1]!);
}
