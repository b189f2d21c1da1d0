/**
 * The one way a test waits: poll `check` until it returns something truthy, or fail after
 * `timeoutMs` naming `what` (and the last error `check` threw). Tests wait for conditions,
 * never for fixed sleeps.
 */
export type WaitOptions = { timeoutMs?: number; intervalMs?: number; what?: string };

export async function waitFor<T>(
  check: () => Promise<T> | T,
  { timeoutMs = 10_000, intervalMs = 25, what = "condition" }: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
