/** The bulk form of reprocess: the newest documents matching a filter, a bounded number, a few at a time. */
import type { PipelineDeps } from '../pipeline';
import type { ImageStatus } from '../store';
import { reprocessImage } from './reprocessImage';

export interface ReprocessFilter {
  status?: ImageStatus;
  /** The profile the documents have now. */
  profile?: string;
  label?: string;
}

export interface ReprocessItem {
  id: string;
  /** The outcome (classified, needs_review, ...), or why it was skipped or failed. */
  outcome: string;
  reason?: string;
}

export const MAX_BULK_REPROCESS = 100;
const CONCURRENCY = 4;
const MAX_PAGES = 10;

export async function reprocessMany(filter: ReprocessFilter, o: { max: number; toProfile?: string }, deps: PipelineDeps): Promise<{ items: ReprocessItem[]; more: boolean }> {
  // Candidates first, then the work: reprocessed documents move to the top of the updatedAt order the list pages by.
  const ids: string[] = [];
  let token: string | undefined;
  let more = false;
  for (let page = 0; page < MAX_PAGES && ids.length < o.max; page++) {
    const got = await deps.store.list({ ...filter, limit: Math.min(100, o.max * 2), ...(token === undefined ? {} : { continuationToken: token }) });
    for (const d of got.items) {
      if (ids.length >= o.max) {
        more = true;
        break;
      }
      // Reviewed and in-flight documents are left alone (reprocessImage says why for a single one).
      if (d.status !== 'processing' && d.status !== 'deleted' && (d.review === null || d.review === undefined)) ids.push(d.id);
    }
    if (got.continuationToken === null) break;
    token = got.continuationToken;
    if (ids.length >= o.max) more = true;
  }
  const items: ReprocessItem[] = new Array<ReprocessItem>(ids.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < ids.length; i = next++) {
      const id = ids[i] as string;
      try {
        const r = await reprocessImage(id, o.toProfile === undefined ? {} : { profile: o.toProfile }, deps);
        items[i] = r.kind === 'done' ? { id, outcome: r.outcome.outcome } : r.kind === 'not-found' ? { id, outcome: 'skipped', reason: 'not found' } : { id, outcome: 'skipped', reason: r.reason };
      } catch (e) {
        items[i] = { id, outcome: 'failed', reason: e instanceof Error ? e.message : String(e) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
  return { items, more };
}
