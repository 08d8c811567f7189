/**
 * What one final result adds to the per-day counters, and how counters add up. Records are keyed by names from
 * outside (labels, profiles): every access goes through own-property checks and Object.fromEntries, so a label
 * called `__proto__` is a label like any other.
 */
import { createHash } from 'node:crypto';

import type { ImageDocument } from '../store';
import { addHistograms, bucketOf, emptyHistogram } from './latencyBuckets';

export interface ProfileCounters {
  results: number;
  byStatus: Record<string, number>;
}

/** Final results written on one day (a blob version counts once per answer; a reprocess is a new answer). */
export interface ResultCounters {
  results: number;
  byStatus: Record<string, number>;
  byProfile: Record<string, ProfileCounters>;
  /** Results carrying each label (flattened `labels`). */
  byLabel: Record<string, number>;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  modelCalls: number;
  /** Answers reused from the content cache (no model call). */
  cached: number;
  /** Results that ended on throttling (`model_throttled` at the paid-attempt cap or the retry horizon). */
  throttled: number;
  /** Results that needed more than one delivery (a redelivery after a fault, a 429 or a timeout). */
  retried: number;
  /** Model time per result, fixed buckets (latencyBuckets). */
  modelLatency: number[];
  /** Event to final write (this invocation's totalMs), fixed buckets. */
  totalLatency: number[];
}

/** The current human judgment of one image's answer, kept per image so a changed review replaces it. */
export interface ReviewEntry {
  reviewedAt: string;
  profile: string;
  /** The person kept exactly the model's labels. */
  agreed: boolean;
  /** Each label the model gave → whether the person kept it. */
  labels: Record<string, boolean>;
}

export function emptyCounters(): ResultCounters {
  return {
    results: 0,
    byStatus: {},
    byProfile: {},
    byLabel: {},
    promptTokens: 0,
    completionTokens: 0,
    costUsd: 0,
    modelCalls: 0,
    cached: 0,
    throttled: 0,
    retried: 0,
    modelLatency: emptyHistogram(),
    totalLatency: emptyHistogram(),
  };
}

/** Statuses a result is counted under; `processing` and `deleted` are not results. */
const COUNTED: ReadonlySet<string> = new Set(['classified', 'needs_review', 'rejected', 'failed']);

export function isCountable(doc: ImageDocument): boolean {
  return COUNTED.has(doc.status);
}

/** When the answer was written: `finishedAt` (set by the final write, kept by reviews), else the last update. */
export function finishedAtOf(doc: ImageDocument): string {
  return doc.finishedAt ?? doc.updatedAt;
}

/** UTC day, YYYY-MM-DD. */
export function dayOf(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new RangeError(`not a date-time: ${JSON.stringify(iso)}`);
  return new Date(t).toISOString().slice(0, 10);
}

/**
 * Identifies one final write: the same document version read back by a redelivery gives the same key, a new answer
 * (new blob version, reprocess) a new one. Reviews keep `finishedAt`, so they do not change it.
 */
export function resultKey(doc: ImageDocument): string {
  return createHash('sha256').update(`${doc.id}\n${doc.blob.eTag}\n${finishedAtOf(doc)}\n${doc.status}`).digest('hex').slice(0, 20);
}

/** What this final document adds. */
export function countersOf(doc: ImageDocument): ResultCounters {
  const c = emptyCounters();
  c.results = 1;
  c.byStatus = { [doc.status]: 1 };
  if (doc.profile !== null) c.byProfile = Object.fromEntries([[doc.profile.name, { results: 1, byStatus: Object.fromEntries([[doc.status, 1]]) }]]);
  c.byLabel = Object.fromEntries([...new Set(doc.labels)].map((l) => [l, 1]));
  c.promptTokens = doc.usage.promptTokens;
  c.completionTokens = doc.usage.completionTokens;
  c.costUsd = doc.usage.costUsd ?? 0;
  c.modelCalls = doc.usage.modelCalls;
  c.cached = doc.cached === null || doc.cached === undefined ? 0 : 1;
  c.throttled = doc.error?.code === 'model_throttled' ? 1 : 0;
  c.retried = (doc.attempts ?? 1) > 1 ? 1 : 0;
  const model = doc.timings.modelMs === null ? undefined : bucketOf(doc.timings.modelMs);
  if (model !== undefined) c.modelLatency[model] = 1;
  const total = bucketOf(doc.timings.totalMs);
  if (total !== undefined) c.totalLatency[total] = 1;
  return c;
}

/** The review's judgment of the model's answer; undefined when the document has no review or no profile. */
export function reviewEntryOf(doc: ImageDocument): ReviewEntry | undefined {
  const review = doc.review;
  if (review === null || review === undefined || doc.profile === null) return undefined;
  const model = new Set(doc.labels);
  const kept = new Set(review.labels);
  const agreed = model.size === kept.size && [...model].every((l) => kept.has(l));
  return { reviewedAt: review.reviewedAt, profile: doc.profile.name, agreed, labels: Object.fromEntries([...model].map((l) => [l, kept.has(l)])) };
}

export function addCounters(a: ResultCounters, b: ResultCounters): ResultCounters {
  return {
    results: a.results + b.results,
    byStatus: addRecords(a.byStatus, b.byStatus),
    byProfile: mergeRecords(a.byProfile, b.byProfile, (x, y) => ({ results: x.results + y.results, byStatus: addRecords(x.byStatus, y.byStatus) })),
    byLabel: addRecords(a.byLabel, b.byLabel),
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    // Sums of prices carry binary noise; nano-dollars are far below anything billed (a token costs ~1e-6 USD).
    costUsd: Math.round((a.costUsd + b.costUsd) * 1e9) / 1e9,
    modelCalls: a.modelCalls + b.modelCalls,
    cached: a.cached + b.cached,
    throttled: a.throttled + b.throttled,
    retried: a.retried + b.retried,
    modelLatency: addHistograms(a.modelLatency, b.modelLatency),
    totalLatency: addHistograms(a.totalLatency, b.totalLatency),
  };
}

/** Counters read back from storage, with any field a older layout lacks filled in. */
export function normalizeCounters(raw: Partial<ResultCounters> | undefined): ResultCounters {
  return addCounters(emptyCounters(), { ...emptyCounters(), ...(raw ?? {}) });
}

function addRecords(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return mergeRecords(a, b, (x, y) => x + y);
}

function mergeRecords<T>(a: Record<string, T>, b: Record<string, T>, add: (x: T, y: T) => T): Record<string, T> {
  const out = new Map<string, T>(Object.entries(a));
  for (const [k, v] of Object.entries(b)) {
    const prev = out.get(k);
    out.set(k, prev === undefined ? v : add(prev, v));
  }
  return Object.fromEntries(out);
}
