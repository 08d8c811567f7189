/**
 * Retention for the content cache where Cosmos DB TTL does not run (the local emulator server has none): entries last
 * written more than CACHE_TTL_DAYS ago are deleted, a bounded number per run. In Azure the per-item `ttl` expires
 * them first and the sweep finds nothing.
 */
import type { ImageStore } from '../store';

export async function sweepCache(store: ImageStore, o: { ttlDays: number; now: Date; limit: number }): Promise<{ deleted: number }> {
  const before = new Date(o.now.getTime() - o.ttlDays * 86_400_000).toISOString();
  const old = await store.query<{ id: string }>({
    query: 'SELECT TOP @limit c.id FROM c WHERE c.type = @type AND c.updatedAt < @before',
    parameters: [
      { name: '@limit', value: o.limit },
      { name: '@type', value: 'cache' },
      { name: '@before', value: before },
    ],
  });
  let deleted = 0;
  for (const { id } of old) if (await store.delete(id)) deleted++;
  return { deleted };
}
