/** Runs async work over a list with a bound on how much is in flight. */

/** Promise.allSettled over `items`, with at most `limit` of `run` in flight. */
export async function settleWithConcurrency<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<PromiseSettledResult<void>[]> {
  const results: PromiseSettledResult<void>[] = new Array<PromiseSettledResult<void>>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        await run(items[i] as T);
        results[i] = { status: 'fulfilled', value: undefined };
      } catch (e) {
        results[i] = { status: 'rejected', reason: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
