/** Every document the service stored for a profile, as prediction records, page by page. */
import type { PredictionRecord } from '../runs/predictionRecord';
import { recordFromDocument } from '../runs/recordFromDocument';
import type { ImageStore } from '../store/ImageStore';
import { MAX_LIST_LIMIT } from '../store/ImageStore';

/** A bound on pages read, so a store that keeps handing out continuation tokens cannot loop forever. */
const MAX_PAGES = 10_000;

export async function readServiceRecords(store: Pick<ImageStore, 'list'>, filter: { profile?: string }, onPage?: (count: number) => void): Promise<PredictionRecord[]> {
  const records: PredictionRecord[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { items, continuationToken } = await store.list({ ...filter, limit: MAX_LIST_LIMIT, ...(token === undefined ? {} : { continuationToken: token }) });
    for (const doc of items) {
      const r = recordFromDocument(doc);
      if (r !== null) records.push(r);
    }
    onPage?.(records.length);
    if (continuationToken === null) return records;
    token = continuationToken;
  }
  throw new Error(`Stopped after ${MAX_PAGES} pages of documents.`);
}
