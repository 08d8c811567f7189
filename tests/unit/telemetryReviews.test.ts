/**
 * The reviewed-accuracy alert (infra/app/alerts.bicep) counts `blobsight.reviews` by `agreed`: a stored review must
 * emit it, judged by the same rule as GET /api/stats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ImageDocument } from '../../shared/store';
import { METRIC, recordReview } from '../../shared/telemetry';
import type { InMemoryTelemetry } from '../support/inMemoryTelemetry';
import { startInMemoryTelemetry } from '../support/inMemoryTelemetry';

let telemetry: InMemoryTelemetry;
beforeAll(() => {
  telemetry = startInMemoryTelemetry();
});
afterAll(async () => {
  await telemetry.shutdown();
});

function reviewed(modelLabels: string[], reviewLabels: string[] | null): ImageDocument {
  const review = reviewLabels === null ? null : { result: { label: reviewLabels[0] }, labels: reviewLabels, reviewer: 'r', reviewedBy: null, note: null, reviewedAt: '2026-12-02T00:00:00.000Z' };
  return { id: 'a', profile: { name: 'pets', version: '1' }, labels: modelLabels, review } as unknown as ImageDocument;
}

describe('blobsight.reviews', () => {
  it('counts a review that kept the model label as agreed, a correction as not, and a document without review not at all', async () => {
    recordReview(reviewed(['cat'], ['cat']));
    recordReview(reviewed(['cat'], ['dog']));
    recordReview(reviewed(['cat'], ['dog']));
    recordReview(reviewed(['cat'], null));
    expect(await telemetry.metric(METRIC.reviews, { agreed: 'true', profile: 'pets' })).toBe(1);
    expect(await telemetry.metric(METRIC.reviews, { agreed: 'false' })).toBe(2);
    expect(await telemetry.metric(METRIC.reviews)).toBe(3);
  });
});
