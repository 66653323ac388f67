/**
 * Calls `work` on every item with at most `limit` calls in flight, and returns the results in the
 * order of `items`, whatever order the calls finish in (so a summary built from them reads the same
 * at any `limit`). `limit` 1 is a plain loop: each call starts after the previous one settled. Items
 * are started in order: item k starts only once items 0..k-1 have started.
 *
 * `work` is meant to report its failures in its result (runJob's parents do). When a call throws
 * anyway, no further item starts, the calls in flight are awaited, and the first error is thrown.
 * Throws RangeError when `limit` is not a whole number of at least 1.
 */
export async function mapWithConcurrency<T, R>(items: ReadonlyArray<T>, limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency limit must be a whole number of at least 1, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}
