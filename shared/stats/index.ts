export { BUCKET_COUNT, bucketOf, emptyHistogram, LATENCY_BUCKETS_MS, percentile } from './latencyBuckets';
export type { ResultCounters, ReviewEntry } from './statsCounters';
export { countersOf, dayOf, finishedAtOf, resultKey, reviewEntryOf } from './statsCounters';
export type { StatsDayDocument, StatsDayRow } from './StatsStore';
export { STATS_SHARDS, statsDayId, statsShardOf, StatsStore } from './StatsStore';
export type { StatsSummary } from './summarizeStats';
export { daysBetween, summarizeStats } from './summarizeStats';
