/** `summary.json` of a run: counts, tokens, cost, latency percentiles, wall time and the estimate beside the actual spend. */
import type { PredictionRecord } from './predictionRecord';

export interface LatencyPercentiles {
  count: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface RunSession {
  startedAt: string;
  endedAt: string;
  wallMs: number;
  /** Images this session wrote a line for; the rest were already in the run. */
  processed: number;
  skipped: number;
  /** Why the session ended before every image was done, if it did. */
  stopped: 'interrupted' | 'max-cost' | null;
}

export interface RunSummary {
  id: string;
  profile: { name: string; version: string };
  model: { provider: string; deployment: string };
  counts: {
    /** Distinct image names with a line in the run (the latest line per name counts). */
    images: number;
    classified: number;
    needsReview: number;
    rejected: number;
    failed: number;
    /** Answers not paid for in this run: same bytes earlier in the run, the service's cache or its documents. */
    reused: number;
  };
  /** Failure codes and how many images ended with each. */
  errors: Record<string, number>;
  tokens: { prompt: number; completion: number; total: number };
  costUsd: number | null;
  modelCalls: number;
  /** Per image with a model call, total latency (read + preprocess + model), and the model call alone, in ms. */
  latencyMs: { total: LatencyPercentiles; model: LatencyPercentiles };
  /** Sum over sessions (a resumed run has several). */
  wallMs: number;
  imagesPerSecond: number | null;
  /** Over the images that made a paid call: what the estimate predicted and what the endpoint reported. */
  estimateVsActual: {
    images: number;
    estimated: { promptTokens: number; maxTokensReserve: number; costUsd: number | null };
    actual: { promptTokens: number; completionTokens: number; costUsd: number | null };
    /** (actual - estimated) / estimated prompt tokens; null with nothing to compare. */
    promptTokensError: number | null;
  };
  sessions: RunSession[];
  corruptLines: number;
  updatedAt: string;
}

export function percentiles(values: readonly number[]): LatencyPercentiles {
  if (values.length === 0) return { count: 0, p50: null, p90: null, p95: null, p99: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest-rank: the smallest value with at least p% of the values at or below it.
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
  return { count: sorted.length, p50: at(50), p90: at(90), p95: at(95), p99: at(99), max: sorted[sorted.length - 1] as number };
}

/** The latest line per image name wins: a failed image labelled on resume counts once, as labelled. */
export function latestByName(records: readonly PredictionRecord[]): PredictionRecord[] {
  const byName = new Map<string, PredictionRecord>();
  for (const r of records) byName.set(r.name, r);
  return [...byName.values()];
}

export interface SummaryInput {
  id: string;
  profile: { name: string; version: string };
  model: { provider: string; deployment: string };
  /** Every line of predictions.jsonl then failures.jsonl, in the order written. */
  records: readonly PredictionRecord[];
  sessions: readonly RunSession[];
  corruptLines: number;
  now?: Date;
}

export function summarizeRun(input: SummaryInput): RunSummary {
  const latest = latestByName([...input.records].sort((a, b) => a.at.localeCompare(b.at)));
  const counts = { images: latest.length, classified: 0, needsReview: 0, rejected: 0, failed: 0, reused: 0 };
  const errors: Record<string, number> = {};
  for (const r of latest) {
    if (r.status === 'classified') counts.classified++;
    else if (r.status === 'needs_review') counts.needsReview++;
    else if (r.status === 'rejected') counts.rejected++;
    else counts.failed++;
    if (r.reused !== null) counts.reused++;
    if (r.error !== null) errors[r.error.code] = (errors[r.error.code] ?? 0) + 1;
  }
  // Spend is over every line, not the latest per name: a failed call that was paid and then retried cost twice.
  let prompt = 0;
  let completion = 0;
  let cost: number | null = 0;
  let calls = 0;
  const total: number[] = [];
  const model: number[] = [];
  const est = { images: 0, promptTokens: 0, maxTokensReserve: 0, costUsd: 0 as number | null, actualPrompt: 0, actualCompletion: 0, actualCost: 0 as number | null };
  for (const r of input.records) {
    prompt += r.usage.promptTokens;
    completion += r.usage.completionTokens;
    calls += r.usage.modelCalls;
    if (r.usage.modelCalls > 0) {
      cost = r.usage.costUsd === null || cost === null ? null : cost + r.usage.costUsd;
      total.push(r.timings.totalMs);
      if (r.timings.modelMs !== null) model.push(r.timings.modelMs);
    }
    if (r.estimate !== undefined && r.usage.modelCalls > 0) {
      est.images++;
      est.promptTokens += r.estimate.promptTokens;
      est.maxTokensReserve += r.estimate.maxTokens;
      est.costUsd = r.estimate.costUsd === null || est.costUsd === null ? null : est.costUsd + r.estimate.costUsd;
      est.actualPrompt += r.usage.promptTokens;
      est.actualCompletion += r.usage.completionTokens;
      est.actualCost = r.usage.costUsd === null || est.actualCost === null ? null : est.actualCost + r.usage.costUsd;
    }
  }
  const wallMs = input.sessions.reduce((s, x) => s + x.wallMs, 0);
  const processed = input.sessions.reduce((s, x) => s + x.processed, 0);
  return {
    id: input.id,
    profile: input.profile,
    model: input.model,
    counts,
    errors,
    tokens: { prompt, completion, total: prompt + completion },
    costUsd: cost,
    modelCalls: calls,
    latencyMs: { total: percentiles(total), model: percentiles(model) },
    wallMs,
    imagesPerSecond: wallMs > 0 ? round3((processed * 1000) / wallMs) : null,
    estimateVsActual: {
      images: est.images,
      estimated: { promptTokens: est.promptTokens, maxTokensReserve: est.maxTokensReserve, costUsd: est.costUsd },
      actual: { promptTokens: est.actualPrompt, completionTokens: est.actualCompletion, costUsd: est.actualCost },
      promptTokensError: est.promptTokens > 0 ? round3((est.actualPrompt - est.promptTokens) / est.promptTokens) : null,
    },
    sessions: [...input.sessions],
    corruptLines: input.corruptLines,
    updatedAt: (input.now ?? new Date()).toISOString(),
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
