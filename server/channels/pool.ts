/** Runs `fn` over `items` with at most `limit` calls in flight; resolves when every call settled. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Items grouped by the origin of their URL, in first-seen order. */
export function byOrigin<T>(items: readonly T[], urlOf: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const origin = new URL(urlOf(item)).origin;
    const group = groups.get(origin);
    if (group) group.push(item);
    else groups.set(origin, [item]);
  }
  return [...groups.values()];
}
