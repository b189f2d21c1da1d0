/**
 * `doctor`'s view of the deployment, from one handshake (`checkDeployment`): is it reachable,
 * is the token accepted, do the deployed functions speak this version's API, and how far apart
 * are the clocks. One failure explains the lines after it: a deployment that cannot be reached
 * says nothing about the token, so those lines are skipped rather than failed twice.
 */
import { API_VERSION } from "../../convex/lib/apiVersion.js";
import type { Config } from "../config/configSchema.js";
import { convexUrlAdvice } from "../config/convexUrlAdvice.js";
import type { LoadedConfig } from "../config/loadConfig.js";
import { classifyError } from "../errors/classifyError.js";
import { checkDeployment } from "../remote/checkDeployment.js";
import type { ConvexGateway } from "../remote/ConvexGateway.js";
import type { DoctorCheck } from "./DoctorCheck.js";
import { MAX_CLOCK_SKEW_MS } from "../timing.js";

const TITLES = {
  "convex-url": "Convex URL",
  reachable: "deployment reachable",
  token: "service token",
  functions: "deployed functions",
  clock: "clock skew",
} as const;

type Id = keyof typeof TITLES;

function line(id: Id, status: DoctorCheck["status"], detail: string, fix?: string, config?: boolean): DoctorCheck {
  return { id, title: TITLES[id], status, detail, ...(fix === undefined ? {} : { fix }), ...(config ? { config } : {}) };
}

function skipAfter(ids: Id[], why: string): DoctorCheck[] {
  return ids.map((id) => line(id, "skip", why));
}

/** The deployment answered but would not take the token: what it said, what to do, the rest skipped. */
function tokenFailed(detail: string, fix: string, why: string): DoctorCheck[] {
  return [line("reachable", "ok", "it answered"), line("token", "fail", detail, fix), ...skipAfter(["functions", "clock"], why)];
}

export async function checkDeploymentHealth(
  config: Config,
  makeGateway: (url: string, token: string) => ConvexGateway,
  urlLookalike: LoadedConfig["urlLookalike"] = null,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  if (config.convexUrl === undefined) {
    checks.push(line("convex-url", "fail", "no Convex deployment URL is set", convexUrlAdvice(urlLookalike), true));
    return [...checks, ...skipAfter(["reachable", "token", "functions", "clock"], "no URL")];
  }
  checks.push(line("convex-url", "ok", config.convexUrl));
  if (config.token === undefined) {
    return [
      ...checks,
      line("reachable", "skip", "not tried without a token"),
      line(
        "token",
        "fail",
        "no service token is set",
        "set CELSTATE_SYNC_TOKEN in the environment (or .env.local) to the value given to the deployment with `npx convex env set CELSTATE_SYNC_TOKEN … --prod`",
        true,
      ),
      ...skipAfter(["functions", "clock"], "no token"),
    ];
  }

  try {
    const info = await checkDeployment(makeGateway(config.convexUrl, config.token));
    const skew = Math.round(info.clockSkewMs);
    checks.push(
      line("reachable", "ok", `answered in ${info.roundTripMs} ms`),
      line("token", "ok", "accepted"),
      line("functions", "ok", `sync API v${info.apiVersion}`),
      Math.abs(skew) > MAX_CLOCK_SKEW_MS
        ? line(
            "clock",
            "warn",
            `this machine's clock is ${(Math.abs(skew) / 1000).toFixed(1)} s ${skew > 0 ? "behind" : "ahead of"} the deployment's`,
            "keep the clock synchronised (e.g. `timedatectl set-ntp true`); failure markers are stamped with this clock",
          )
        : line("clock", "ok", `${skew} ms from the deployment's`),
    );
    return checks;
  } catch (e) {
    const err = classifyError(e);
    switch (err.code) {
      case "UNAUTHORIZED":
        return [
          ...checks,
          ...tokenFailed(
            "the deployment refused the service token",
            "set CELSTATE_SYNC_TOKEN here to the value in the deployment (`npx convex env get CELSTATE_SYNC_TOKEN`)",
            "token refused",
          ),
        ];
      case "TOKEN_NOT_CONFIGURED":
        return [
          ...checks,
          ...tokenFailed(
            "the deployment has no CELSTATE_SYNC_TOKEN",
            "run `npx convex env set CELSTATE_SYNC_TOKEN <token> --prod` (without --prod it goes to the dev deployment) with the token this machine uses",
            "token not configured",
          ),
        ];
      case "API_MISMATCH":
        return [
          ...checks,
          line("reachable", "ok", "it answered"),
          line("token", "skip", "cannot tell: the handshake function is missing or differs"),
          line(
            "functions",
            "fail",
            err.message,
            `deploy this version's convex/ folder (\`npx convex deploy\`); it expects sync API v${API_VERSION}`,
          ),
          line("clock", "skip", "no handshake"),
        ];
      default:
        return [
          ...checks,
          line(
            "reachable",
            "fail",
            `${config.convexUrl}: [${err.code}] ${err.message}`,
            "check the URL (it is the deployment URL, https://<name>.convex.cloud) and this machine's network",
          ),
          ...skipAfter(["token", "functions", "clock"], "unreachable"),
        ];
    }
  }
}
