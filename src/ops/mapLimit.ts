/**
 * Maps over items with at most `limit` calls in flight, keeping the input order in the result.
 * The read-only commands walk every job folder; this bounds open files and requests without
 * pulling in the daemon's work queue (which brings backoff and byte budgets they do not need).
 * The first rejection stops new calls from starting and is rethrown once the running ones end.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failed === null && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  const n = Math.max(1, Math.min(Math.floor(limit), items.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (failed !== null) throw (failed as { error: unknown }).error;
  return results;
}
