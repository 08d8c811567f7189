/**
 * The metric of a stored review: `blobsight.reviews` with `agreed` ("true" / "false"), which the reviewed-accuracy
 * alert (infra/app/alerts.bicep) reads. Agreement is the stats counters' own rule (reviewEntryOf), so the alert and
 * GET /api/stats judge a review the same way.
 */
import { reviewEntryOf } from '../stats/statsCounters';
import type { ImageDocument } from '../store/imageDocument';
import { instruments } from './metrics';

export function recordReview(doc: ImageDocument): void {
  const entry = reviewEntryOf(doc);
  if (entry === undefined) return;
  instruments().reviews.add(1, { agreed: String(entry.agreed), profile: entry.profile });
}
