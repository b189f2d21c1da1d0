/**
 * `doctor` as a function: every check in order, one line each, never stopping early except
 * where a check cannot mean anything (no configuration). Read-only: the only write is the
 * jobs-folder probe file, removed again.
 */
import type { LoadedConfig } from "../config/loadConfig.js";
import { ConvexHttpGateway } from "../remote/ConvexHttpGateway.js";
import type { ConvexGateway } from "../remote/ConvexGateway.js";
import { checkAccessAs } from "./checkAccessAs.js";
import { checkDeploymentHealth } from "./checkDeploymentHealth.js";
import { checkInotifyLimits } from "./checkInotifyLimits.js";
import { checkJobsFolder } from "./checkJobsFolder.js";
import { checkMarkerSwap } from "./checkMarkerSwap.js";
import { describeConfigSources } from "./describeConfigSources.js";
import type { DoctorCheck } from "./DoctorCheck.js";
import type { ServiceUser } from "./permitsAs.js";
import { readOnlyGateway } from "./readOnlyGateway.js";

export type RunDoctorOptions = {
  /** The loaded configuration, or the error loading it raised. */
  loaded: LoadedConfig | { error: Error };
  makeGateway?: (url: string, token: string) => ConvexGateway;
  platform?: NodeJS.Platform;
  procDir?: string;
  /** `--as-user`: also check the jobs folder as this user (doctor runs as root then). */
  asUser?: ServiceUser;
  /** Who runs the checks (process.getuid() by default): root's probes pass where others' fail. */
  uid?: number;
};

const LATER = [
  ["convex-url", "Convex URL"],
  ["reachable", "deployment reachable"],
  ["token", "service token"],
  ["functions", "deployed functions"],
  ["clock", "clock skew"],
  ["jobs-dir", "jobs folder"],
  ["inotify", "inotify limits"],
  ["marker-swap", "marker swap"],
] as const;

export async function runDoctor(opts: RunDoctorOptions): Promise<DoctorCheck[]> {
  if ("error" in opts.loaded) {
    return [
      {
        id: "config",
        title: "configuration",
        status: "fail",
        detail: opts.loaded.error.message,
        fix: "correct the setting named above (celstate-sync.config.json, the environment, .env.local/.env or the flag)",
        config: true,
      },
      ...LATER.flatMap(([id, title]) => {
        const skip = (id: string, title: string): DoctorCheck => ({ id, title, status: "skip", detail: "no valid configuration" });
        // The service-user line, when asked for, comes right after the jobs folder's.
        return id === "jobs-dir" && opts.asUser ? [skip(id, title), skip("as-user", "service user")] : [skip(id, title)];
      }),
    ];
  }
  const { config } = opts.loaded;
  const checks: DoctorCheck[] = [
    { id: "config", title: "configuration", status: "ok", detail: `valid (${describeConfigSources(opts.loaded)})` },
  ];

  const makeGateway =
    opts.makeGateway ??
    ((url: string, token: string) =>
      new ConvexHttpGateway({ url, token, requestTimeoutMs: config.requestTimeoutMs, uploadTimeoutMs: config.uploadTimeoutMs }));
  checks.push(...(await checkDeploymentHealth(config, (url, token) => readOnlyGateway(makeGateway(url, token)), opts.loaded.urlLookalike)));

  const jobs = await checkJobsFolder(config.jobsDir);
  const uid = opts.uid ?? process.getuid?.();
  if (jobs.check.status === "ok" && uid === 0 && opts.asUser === undefined) {
    jobs.check.detail += " (as root, who may write anywhere: add --as-user <service user> to check as the daemon's user)";
  }
  checks.push(jobs.check);
  if (opts.asUser !== undefined) checks.push(await serviceUserCheck(config.jobsDir, opts.asUser, jobs.jobFolders !== null));
  if (jobs.jobFolders === null) {
    checks.push({ id: "inotify", title: "inotify limits", status: "skip", detail: "the jobs folder could not be listed" });
  } else {
    checks.push(
      await checkInotifyLimits({
        jobFolders: jobs.jobFolders,
        maxWatchedJobs: config.watch.maxWatchedJobs,
        ...(opts.platform ? { platform: opts.platform } : {}),
        ...(opts.procDir ? { procDir: opts.procDir } : {}),
      }),
    );
  }
  checks.push(checkMarkerSwap());
  return checks;
}

async function serviceUserCheck(jobsDir: string, user: ServiceUser, folderOk: boolean): Promise<DoctorCheck> {
  const title = "service user";
  if (!folderOk) return { id: "as-user", title, status: "skip", detail: "the jobs folder could not be listed" };
  try {
    return await checkAccessAs(jobsDir, user);
  } catch (e) {
    return {
      id: "as-user",
      title,
      status: "fail",
      detail: `could not check ${jobsDir} as ${user.name}: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}
