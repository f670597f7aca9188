/** Runs `fn` over `items` with at most `limit` in flight; resolves to each item's duration in ms. */
export async function timedPool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<number[]> {
  const durations = new Array<number>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      const started = performance.now();
      await fn(items[i]!);
      durations[i] = performance.now() - started;
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return durations;
}
