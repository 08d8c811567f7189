/** Stores imported reviews: beside a run's predictions (reviews.jsonl) or on the service's documents, never over the model's answer. */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

import { REVIEWS_FILE } from '../export/readRunPredictions';
import type { ImageDocument } from '../store/imageDocument';
import type { ImageStore } from '../store/ImageStore';
import type { ImportedReview, TaskProblem } from './labelStudioReviews';

/** Appended, one `{name, review}` per line: predictions.jsonl stays as the labelling wrote it, and the last review of a name wins. */
export function storeRunReviews(runDir: string, reviews: readonly ImportedReview[]): number {
  if (reviews.length === 0) return 0;
  appendFileSync(join(runDir, REVIEWS_FILE), reviews.map((r) => `${JSON.stringify({ name: r.name, review: r.review })}\n`).join(''));
  return reviews.length;
}

/** Read-modify-write with the document's etag, as PATCH /api/images/{id}/review does; a concurrent writer means a re-read. */
const MAX_ATTEMPTS = 3;

export async function storeServiceReviews(store: Pick<ImageStore, 'get' | 'replace' | 'upsert'>, reviews: readonly ImportedReview[]): Promise<{ stored: number; problems: TaskProblem[] }> {
  let stored = 0;
  const problems: TaskProblem[] = [];
  for (const [i, r] of reviews.entries()) {
    if (r.documentId === undefined) {
      problems.push({ task: i, name: r.name, reason: 'no data.documentId: this task was not exported from the service' });
      continue;
    }
    for (let attempt = 1; ; attempt++) {
      const doc = await store.get(r.documentId);
      if (doc === undefined) {
        problems.push({ task: i, name: r.name, reason: `no document ${r.documentId} in the service` });
        break;
      }
      const next: ImageDocument = { ...doc, review: r.review, updatedAt: new Date().toISOString() };
      const saved = doc._etag === undefined ? await store.upsert(next) : await store.replace(next, doc._etag);
      if (saved !== 'conflict') {
        stored++;
        break;
      }
      if (attempt >= MAX_ATTEMPTS) {
        problems.push({ task: i, name: r.name, reason: 'the document kept changing while the review was saved; import again' });
        break;
      }
    }
  }
  return { stored, problems };
}
