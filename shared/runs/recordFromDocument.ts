/** A document the service stored, as a run's prediction line: so exports read runs and the service the same way. */
import type { ImageDocument } from '../store/imageDocument';
import type { PredictionRecord, PredictionStatus } from './predictionRecord';

/**
 * The blob name is the record's `name` (it is what the service and the BDD100K/COCO file names know). `processing`
 * and `deleted` documents have no answer to export and map to null. Review, usage and timings are kept as stored.
 */
export function recordFromDocument(doc: ImageDocument): PredictionRecord | null {
  if (doc.status === 'processing' || doc.status === 'deleted' || doc.profile === null) return null;
  const status: PredictionStatus = doc.status;
  return {
    name: doc.blob.name,
    source: { kind: 'service', location: doc.blob.url, documentId: doc.id },
    sha256: doc.image?.sha256 ?? null,
    size: doc.blob.contentLength,
    profile: doc.profile,
    status,
    result: doc.result,
    review: doc.review ?? null,
    confidence: doc.confidence,
    confidenceSource: doc.confidenceSource,
    image: doc.image === null ? null : { width: doc.image.width, height: doc.image.height, format: doc.image.format },
    model: doc.model,
    usage: { ...doc.usage },
    timings: { readMs: doc.timings.downloadMs, preprocessMs: doc.timings.preprocessMs, modelMs: doc.timings.modelMs, totalMs: doc.timings.totalMs },
    reused: doc.cached === null || doc.cached === undefined ? null : { from: 'service-cache', ...(doc.cached.documentId === null ? {} : { name: doc.cached.documentId }) },
    error: doc.error === null ? null : { code: doc.error.code, message: doc.error.message },
    at: doc.updatedAt,
  };
}
