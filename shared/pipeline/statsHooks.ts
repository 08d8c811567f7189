/** The pipeline's calls into the stats counters, kept out of processBlobCreated so the flow reads as before. */
import type { DailyBudget } from '../budget/DailyBudget';
import type { StatsStore } from '../stats/StatsStore';
import type { BlobOutcome } from './processBlobCreated';

export interface StatsHooks {
  stats?: Pick<StatsStore, 'recordResult'>;
  budget?: Pick<DailyBudget, 'check'>;
}

/**
 * Counts a final result (or a duplicate delivery of one) exactly once, then returns the outcome. A failure to count
 * propagates: the delivery is retried, finds the final document (`duplicate`) and counts it then.
 */
export async function countResult(outcome: BlobOutcome, deps: StatsHooks): Promise<BlobOutcome> {
  if (deps.stats !== undefined && 'document' in outcome && outcome.outcome !== 'deleted') await deps.stats.recordResult(outcome.document);
  return outcome;
}
