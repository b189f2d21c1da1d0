/**
 * The public view of a job's `error`. The pipeline's messages name files by absolute path
 * (`Could not read input images: /srv/celstate/jobs/<id>/studio/x_white.png`), and a server
 * path is internal. So the public reads a path inside the job's folder relative to it
 * (`studio/x_white.png`) and any other absolute path by its last component; everything else
 * reads exactly as job.json says. The stored record keeps the original.
 */

/**
 * An absolute POSIX path with at least one folder, where a word may start (`/a/b`, `"/a/b"`,
 * `=/a/b`). URLs do not match: their `//` starts no segment, and their own `/` follows a host.
 */
export const ABSOLUTE_PATH = /(?<=^|[\s"'(=:,[])\/(?:[^\s"'()[\],/]+\/)+[^\s"'()[\],/]*/g;

/** Punctuation that ends a sentence rather than a file name. */
const TRAILING = /[.,;:!?]+$/;

export function publicPath(path: string, jobId: string): string {
  const inJob = `/${jobId}/`;
  const at = path.lastIndexOf(inJob);
  if (at >= 0 && path.length > at + inJob.length) return path.slice(at + inJob.length);
  const parts = path.split("/").filter((p) => p !== "");
  return parts[parts.length - 1] ?? path;
}

export function publicError(error: string | null, jobId: string): string | null {
  if (error === null) return null;
  return error.replace(ABSOLUTE_PATH, (match) => {
    const trail = TRAILING.exec(match)?.[0] ?? "";
    const path = match.slice(0, match.length - trail.length);
    return publicPath(path, jobId) + trail;
  });
}

/** True if `text` still names an absolute path (what `verify` checks the public view for). */
export function namesAbsolutePath(text: string): boolean {
  ABSOLUTE_PATH.lastIndex = 0;
  return ABSOLUTE_PATH.test(text);
}
