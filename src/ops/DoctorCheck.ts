/**
 * One line of `doctor`: what was checked, how it went, and what to do about it. A `warn` does
 * not fail the run; a `fail` does, and a failed configuration check (`config: true`) makes the
 * exit status 2, as every other command's configuration errors do.
 */
export type DoctorStatus = "ok" | "warn" | "fail" | "skip";

export type DoctorCheck = {
  /** Stable identifier for scripts: `config`, `convex-url`, `reachable`, `token`, … */
  id: string;
  /** What the line is about, for people: "Convex URL", "service token", … */
  title: string;
  status: DoctorStatus;
  detail: string;
  /** What to do, when the status is warn or fail. */
  fix?: string;
  /** A failed check that is a configuration error. */
  config?: boolean;
};

export function doctorExitCode(checks: readonly DoctorCheck[]): number {
  if (checks.some((c) => c.status === "fail" && c.config)) return 2;
  return checks.some((c) => c.status === "fail") ? 1 : 0;
}
