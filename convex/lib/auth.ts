/**
 * The service-token check every write, upload-URL and internal read goes through.
 *
 * The deployment holds the token in its environment (`npx convex env set CELSTATE_SYNC_TOKEN … --prod`);
 * the daemon sends it as the `serviceToken` argument. The comparison walks the whole expected
 * token without an early exit, whatever the given one holds: its time depends only on the
 * expected token's length. (No hashing: WebCrypto per call cost a noticeable share of every
 * mutation's CPU time.)
 */
import { fail } from "./errors.js";

const encoder = new TextEncoder();

export async function tokensMatch(given: string, expected: string): Promise<boolean> {
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i]!;
  return diff === 0;
}

export async function requireServiceToken(serviceToken: string | undefined): Promise<void> {
  const expected = process.env.CELSTATE_SYNC_TOKEN;
  if (expected === undefined || expected === "") {
    fail({
      code: "TOKEN_NOT_CONFIGURED",
      message:
        "CELSTATE_SYNC_TOKEN is not set in this deployment; run `npx convex env set CELSTATE_SYNC_TOKEN <token> --prod` (without --prod the CLI sets it on the dev deployment)",
    });
  }
  if (typeof serviceToken !== "string" || !(await tokensMatch(serviceToken, expected))) {
    fail({ code: "UNAUTHORIZED", message: "missing or wrong service token" });
  }
}
