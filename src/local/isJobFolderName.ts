/**
 * Which entries of the jobs folder can be job folders, by name: none starting with `.` (the
 * daemon's own `.celstate-sync/`, anything hidden) or `tmp` (the pipeline stages a job folder
 * under a temp name and renames it into place; it counts from then on, by its final name).
 * The one place this rule is written: listJobIds and the watch daemon's event filter ask here.
 */
export function isJobFolderName(name: string): boolean {
  return !name.startsWith(".") && !name.startsWith("tmp");
}
