/**
 * The service-token check every write, upload-URL and internal read goes through.
 *
 * The deployment holds the token in its environment (`npx convex env set CELSTATE_SYNC_TOKEN`);
 * the daemon sends it as the `serviceToken` argument. Both sides are hashed first so the
 * comparison runs over equal lengths, then compared without an early exit.
 */
import { fail } from "./errors.js";

async function sha256(text: string): Promise<Uint8Array> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return new Uint8Array(digest);
}

export async function tokensMatch(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(given), sha256(expected)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export async function requireServiceToken(serviceToken: string | undefined): Promise<void> {
  const expected = process.env.CELSTATE_SYNC_TOKEN;
  if (expected === undefined || expected === "") {
    fail({
      code: "TOKEN_NOT_CONFIGURED",
      message:
        "CELSTATE_SYNC_TOKEN is not set in this deployment; run `npx convex env set CELSTATE_SYNC_TOKEN <token>`",
    });
  }
  if (typeof serviceToken !== "string" || !(await tokensMatch(serviceToken, expected))) {
    fail({ code: "UNAUTHORIZED", message: "missing or wrong service token" });
  }
}
