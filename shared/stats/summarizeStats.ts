/** Turns per-day counter rows into what GET /api/stats answers: totals, shares, percentiles, accuracy, a daily series. */
import { LATENCY_BUCKETS_MS, percentile } from './latencyBuckets';
import type { ResultCounters } from './statsCounters';
import { addCounters, emptyCounters } from './statsCounters';
import type { StatsDayRow } from './StatsStore';

export interface SpendSummary {
  results: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export interface LatencySummary {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** Counts per bucket; `bucketsMs` are the upper bounds, the last count is everything slower. */
  counts: number[];
}

export interface AccuracySummary {
  reviewed: number;
  agreed: number;
  /** agreed / reviewed; null before any review. */
  accuracy: number | null;
}

export interface DaySummary {
  day: string;
  results: number;
  byStatus: Record<string, number>;
  costUsd: number;
  tokens: number;
  modelP50: number | null;
  modelP90: number | null;
  reviewed: number;
  agreed: number;
  accuracy: number | null;
}

export interface StatsSummary {
  from: string;
  to: string;
  days: number;
  today: SpendSummary;
  last7Days: SpendSummary;
  total: SpendSummary;
  window: {
    results: number;
    byStatus: Record<string, number>;
    byProfile: Record<string, { results: number; byStatus: Record<string, number> }>;
    byLabel: Record<string, number>;
    promptTokens: number;
    completionTokens: number;
    costUsd: number;
    modelCalls: number;
    shares: { failed: number | null; rejected: number | null; needsReview: number | null; throttled: number | null; retried: number | null; cached: number | null };
    latency: { bucketsMs: readonly number[]; model: LatencySummary; endToEnd: LatencySummary };
    reviews: AccuracySummary & { byProfile: Record<string, AccuracySummary>; byLabel: Record<string, AccuracySummary> };
  };
  series: DaySummary[];
}

export interface SummaryInput {
  /** Rows (with reviews) for the window's days. */
  window: StatsDayRow[];
  /** Rows (counters only) for every day stored. */
  all: StatsDayRow[];
  from: string;
  to: string;
  today: string;
  sevenDaysFrom: string;
}

export function summarizeStats(input: SummaryInput): StatsSummary {
  const windowCounters = sum(input.window);
  const reviews = input.window.flatMap((r) => Object.values(r.reviews ?? {}));
  const days = daysBetween(input.from, input.to);
  const byDay = new Map<string, StatsDayRow[]>();
  for (const r of input.window) byDay.set(r.day, [...(byDay.get(r.day) ?? []), r]);
  const c = windowCounters;
  return {
    from: input.from,
    to: input.to,
    days: days.length,
    today: spend(sum(input.all.filter((r) => r.day === input.today))),
    last7Days: spend(sum(input.all.filter((r) => r.day >= input.sevenDaysFrom && r.day <= input.today))),
    total: spend(sum(input.all)),
    window: {
      results: c.results,
      byStatus: c.byStatus,
      byProfile: c.byProfile,
      byLabel: c.byLabel,
      promptTokens: c.promptTokens,
      completionTokens: c.completionTokens,
      costUsd: c.costUsd,
      modelCalls: c.modelCalls,
      shares: {
        failed: share(own(c.byStatus, 'failed'), c.results),
        rejected: share(own(c.byStatus, 'rejected'), c.results),
        needsReview: share(own(c.byStatus, 'needs_review'), c.results),
        throttled: share(c.throttled, c.results),
        retried: share(c.retried, c.results),
        cached: share(c.cached, c.results),
      },
      latency: { bucketsMs: LATENCY_BUCKETS_MS, model: latency(c.modelLatency), endToEnd: latency(c.totalLatency) },
      reviews: { ...accuracy(reviews.map((r) => r.agreed)), byProfile: groupAccuracy(reviews.map((r) => [r.profile, r.agreed])), byLabel: groupAccuracy(reviews.flatMap((r) => Object.entries(r.labels))) },
    },
    series: days.map((day) => {
      const rows = byDay.get(day) ?? [];
      const d = sum(rows);
      const dayReviews = rows.flatMap((r) => Object.values(r.reviews ?? {}));
      return {
        day,
        results: d.results,
        byStatus: d.byStatus,
        costUsd: d.costUsd,
        tokens: d.promptTokens + d.completionTokens,
        modelP50: percentile(d.modelLatency, 0.5),
        modelP90: percentile(d.modelLatency, 0.9),
        ...accuracy(dayReviews.map((r) => r.agreed)),
      };
    }),
  };
}

/** Every day from..to inclusive (YYYY-MM-DD, UTC). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

function sum(rows: readonly StatsDayRow[]): ResultCounters {
  return rows.reduce((acc, r) => addCounters(acc, r.counters), emptyCounters());
}

function spend(c: ResultCounters): SpendSummary {
  return { results: c.results, promptTokens: c.promptTokens, completionTokens: c.completionTokens, costUsd: c.costUsd };
}

function latency(h: number[]): LatencySummary {
  return { p50: percentile(h, 0.5), p90: percentile(h, 0.9), p99: percentile(h, 0.99), counts: h };
}

function share(n: number, of: number): number | null {
  return of === 0 ? null : Math.round((n / of) * 10_000) / 10_000;
}

function own(r: Record<string, number>, k: string): number {
  return Object.hasOwn(r, k) ? (r[k] ?? 0) : 0;
}

function accuracy(agreed: readonly boolean[]): AccuracySummary {
  const yes = agreed.filter(Boolean).length;
  return { reviewed: agreed.length, agreed: yes, accuracy: share(yes, agreed.length) };
}

function groupAccuracy(pairs: readonly [string, boolean][]): Record<string, AccuracySummary> {
  const groups = new Map<string, boolean[]>();
  for (const [k, v] of pairs) groups.set(k, [...(groups.get(k) ?? []), v]);
  return Object.fromEntries([...groups].map(([k, v]) => [k, accuracy(v)]));
}
