/** What the running service already stored in Cosmos DB for a profile, as run records: no model call, nothing paid. */
import type { PredictionRecord } from '../../runs';
import type { ImageDocument, ImageStore } from '../../store';
import { MAX_LIST_LIMIT } from '../../store';
import { UsageError } from '../UsageError';
import type { ListedSource, SourceItem } from './sourceItem';

export interface ServiceListing extends ListedSource {
  /** Documents still processing (or deleted) at listing time: not final, so not part of the run. */
  notFinal: number;
}

export async function listServiceDocuments(store: ImageStore, profile: string, location: string, now: Date = new Date()): Promise<ServiceListing> {
  const items: SourceItem[] = [];
  let notFinal = 0;
  let token: string | undefined;
  do {
    const page = await store.list(token === undefined ? { profile, limit: MAX_LIST_LIMIT } : { profile, limit: MAX_LIST_LIMIT, continuationToken: token });
    for (const doc of page.items) {
      const status = doc.status;
      if (status === 'processing' || status === 'deleted') {
        notFinal++;
        continue;
      }
      items.push({ kind: 'record', name: doc.blob.name, record: recordFromDocument(doc, status, now) });
    }
    token = page.continuationToken ?? undefined;
  } while (token !== undefined);
  if (items.length === 0) throw new UsageError(`The service has no finished documents for profile "${profile}" (${location})${notFinal > 0 ? `; ${notFinal} still processing` : ''}.`);
  items.sort((a, b) => a.name.localeCompare(b.name));
  return { kind: 'service', location, items, notFinal };
}

function recordFromDocument(doc: ImageDocument, status: 'classified' | 'needs_review' | 'rejected' | 'failed', now: Date): PredictionRecord {
  return {
    name: doc.blob.name,
    source: { kind: 'service', location: doc.blob.url, documentId: doc.id },
    sha256: doc.image?.sha256 ?? null,
    size: doc.blob.contentLength,
    profile: doc.profile ?? { name: 'unknown', version: 'unknown' },
    status,
    result: doc.result,
    review: doc.review ?? null,
    confidence: doc.confidence,
    confidenceSource: doc.confidenceSource,
    image: doc.image === null ? null : { width: doc.image.width, height: doc.image.height, format: doc.image.format },
    model: doc.model,
    // The service paid for these when it labelled them; this run pays nothing.
    usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, modelCalls: 0 },
    timings: { readMs: null, preprocessMs: doc.timings.preprocessMs, modelMs: doc.timings.modelMs, totalMs: doc.timings.totalMs },
    reused: { from: 'service-document' },
    error: doc.error === null ? null : { code: doc.error.code, message: doc.error.message },
    at: now.toISOString(),
  };
}
