/**
 * Labels a list of images into a run folder: bounded concurrency, one fsync'ed line per image, resume without
 * paying twice, identical bytes paid once, the service's cached answers reused, and a cost ceiling.
 */
import { isPermanentError, isTransientError } from '../errors';
import type { Classifier } from '../model';
import { classifyBytes, decideStatus } from '../pipeline';
import type { Profile } from '../profiles';
import type { PredictionRecord, RunConfig, RunFolder, RunSession, RunSummary } from '../runs';
import { FAILURES_FILE, JsonLinesWriter, PREDICTIONS_FILE, summarizeRun } from '../runs';
import type { CacheEntry, CacheKey } from '../store';
import type { Pricing, RequestEstimate } from './estimate/estimateRequest';
import { estimateRequest, sentFromHeader, sentOf } from './estimate/estimateRequest';
import type { SourceItem } from './sources/sourceItem';

/** Codes after which the image was fine but no answer could be had: `failed`, as the service stores them. */
const FAILED_CODES = new Set(['model_invalid_output', 'model_bad_request', 'model_not_configured']);

export interface LabelProgress {
  total: number;
  /** Lines written this session plus images skipped as already done. */
  done: number;
  skipped: number;
  failed: number;
  reused: number;
  promptTokens: number;
  completionTokens: number;
  /** Spent in this session; null once any call had no price. */
  costUsd: number | null;
  startedAt: number;
}

export interface LabelRunOptions {
  items: readonly SourceItem[];
  profile: Profile;
  classifier: Classifier;
  limits: { maxBytes: number; maxPixels: number };
  /** Null when the provider costs nothing (local detector). */
  pricing: Pricing | null;
  run: RunFolder;
  config: RunConfig;
  concurrency: number;
  maxCostUsd: number | null;
  /** Reads the service's ready cache entry for a key (Cosmos configured), or undefined. */
  readServiceCache?: (key: CacheKey) => Promise<CacheEntry | undefined>;
  /** Aborted on the first Ctrl-C: no new image is started, the ones in flight finish and are written. */
  stop: AbortSignal;
  /** Aborted on the second Ctrl-C: calls in flight are abandoned and not written (the resume redoes them). */
  abort: AbortSignal;
  onProgress?: (p: LabelProgress) => void;
  now?: () => Date;
}

export interface LabelRunResult {
  summary: RunSummary;
  session: RunSession;
  /** Corrupt lines found in the run's files when it was opened (reported, skipped, the rest kept). */
  corrupt: { file: string; line: number; reason: string }[];
  progress: LabelProgress;
}

type Done = Pick<PredictionRecord, 'name' | 'sha256' | 'status'> & { record: PredictionRecord };

export async function labelRun(o: LabelRunOptions): Promise<LabelRunResult> {
  const now = o.now ?? (() => new Date());
  const started = now();
  const opened = o.run.readContents();
  const deployment = o.config.model.deployment;
  const provider = o.config.model.provider;
  const sameModel = (r: PredictionRecord): boolean =>
    r.profile.name === o.profile.name && r.profile.version === o.profile.version && (r.model === null || (r.model.provider === provider && r.model.deployment === deployment));

  // What the run already holds: answered images by name and by content, and final rejections by name.
  const doneByName = new Map<string, Done>();
  const answerBySha = new Map<string, PredictionRecord>();
  for (const r of opened.records) {
    if (!sameModel(r)) continue;
    const answered = r.status === 'classified' || r.status === 'needs_review';
    if (answered || r.status === 'rejected') doneByName.set(r.name, { name: r.name, sha256: r.sha256, status: r.status, record: r });
    if (answered && r.sha256 !== null && !answerBySha.has(r.sha256)) answerBySha.set(r.sha256, r);
  }
  // Spend already in the run counts against --max-cost.
  let spentBefore = 0;
  for (const r of opened.records) spentBefore += r.usage.costUsd ?? 0;

  const predictions = new JsonLinesWriter(o.run.path(PREDICTIONS_FILE));
  const failures = new JsonLinesWriter(o.run.path(FAILURES_FILE));
  const progress: LabelProgress = { total: o.items.length, done: 0, skipped: 0, failed: 0, reused: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, startedAt: Date.now() };
  const inFlightBySha = new Map<string, Promise<PredictionRecord | undefined>>();
  let reserved = 0;
  let stopped: RunSession['stopped'] = null;
  let processed = 0;

  const write = (r: PredictionRecord): void => {
    if (o.abort.aborted) return;
    (r.status === 'classified' || r.status === 'needs_review' ? predictions : failures).append(r);
    processed++;
    progress.done++;
    if (r.status === 'rejected' || r.status === 'failed') progress.failed++;
    if (r.reused !== null) progress.reused++;
    progress.promptTokens += r.usage.promptTokens;
    progress.completionTokens += r.usage.completionTokens;
    progress.costUsd = progress.costUsd === null || (r.usage.costUsd === null && r.usage.modelCalls > 0) ? null : progress.costUsd + (r.usage.costUsd ?? 0);
    o.onProgress?.(progress);
  };

  const base = (item: Extract<SourceItem, { kind: 'bytes' }>, t0: number): Omit<PredictionRecord, 'status' | 'sha256' | 'size'> => ({
    name: item.name,
    source: item.source,
    profile: { name: o.profile.name, version: o.profile.version },
    result: null,
    review: null,
    confidence: null,
    confidenceSource: null,
    image: null,
    model: null,
    usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, modelCalls: 0 },
    timings: { readMs: null, preprocessMs: null, modelMs: null, totalMs: elapsed(t0) },
    reused: null,
    error: null,
    at: now().toISOString(),
  });

  const reuse = (item: Extract<SourceItem, { kind: 'bytes' }>, t0: number, from: PredictionRecord, size: number, readMs: number): PredictionRecord => ({
    ...base(item, t0),
    sha256: from.sha256,
    size,
    status: from.status,
    result: from.result,
    confidence: from.confidence,
    confidenceSource: from.confidenceSource,
    image: from.image,
    model: from.model,
    timings: { readMs, preprocessMs: null, modelMs: null, totalMs: elapsed(t0) },
    reused: { from: 'run', name: from.name },
  });

  async function labelOne(item: SourceItem): Promise<'stop' | void> {
    if (item.kind === 'record') {
      if (doneByName.has(item.name)) {
        progress.skipped++;
        progress.done++;
        o.onProgress?.(progress);
        return;
      }
      write({ ...item.record, at: now().toISOString() });
      return;
    }
    const t0 = performance.now();
    const read = await item.read(o.abort);
    if (o.abort.aborted) return;
    if (read.kind === 'unreadable') {
      write({ ...base(item, t0), sha256: null, size: null, status: 'rejected', error: { code: read.code, message: read.message }, timings: { readMs: read.readMs, preprocessMs: null, modelMs: null, totalMs: elapsed(t0) } });
      return;
    }
    const already = doneByName.get(item.name);
    if (already !== undefined && already.sha256 === read.sha256) {
      progress.skipped++;
      progress.done++;
      o.onProgress?.(progress);
      return;
    }
    if (read.kind === 'too-large') {
      write({
        ...base(item, t0),
        sha256: read.sha256,
        size: read.size,
        status: 'rejected',
        error: { code: 'too_large', message: `The file is ${read.size} bytes, more than the ${o.limits.maxBytes}-byte limit (MAX_IMAGE_BYTES); upload a smaller or more compressed image.` },
        timings: { readMs: read.readMs, preprocessMs: null, modelMs: null, totalMs: elapsed(t0) },
      });
      return;
    }
    const { bytes, sha256, size, readMs } = read;

    // The same bytes under another name: answered once per run.
    const earlier = answerBySha.get(sha256);
    if (earlier !== undefined) return void write(reuse(item, t0, earlier, size, readMs));
    const pending = inFlightBySha.get(sha256);
    if (pending !== undefined) {
      const first = await pending;
      if (first !== undefined && (first.status === 'classified' || first.status === 'needs_review')) return void write(reuse(item, t0, first, size, readMs));
    }

    let settle: (r: PredictionRecord | undefined) => void = () => undefined;
    inFlightBySha.set(sha256, new Promise((resolve) => (settle = resolve)));
    let record: PredictionRecord | undefined;
    try {
      record = await computeOne(item, t0, bytes, sha256, size, readMs);
      if (record === undefined) return 'stop';
      if ((record.status === 'classified' || record.status === 'needs_review') && !answerBySha.has(sha256)) answerBySha.set(sha256, record);
      write(record);
    } finally {
      inFlightBySha.delete(sha256);
      settle(record);
    }
  }

  /** Undefined when the cost ceiling says not to start this image. */
  async function computeOne(item: Extract<SourceItem, { kind: 'bytes' }>, t0: number, bytes: Buffer, sha256: string, size: number, readMs: number): Promise<PredictionRecord | undefined> {
    if (o.readServiceCache !== undefined && o.pricing !== null) {
      const entry = await o.readServiceCache({ sha256, profile: o.profile.name, profileVersion: o.profile.version, provider, deployment }).catch(() => undefined);
      if (entry?.status === 'ready' && entry.answer !== null) {
        const a = entry.answer;
        return {
          ...base(item, t0),
          sha256,
          size,
          status: decideStatus(a, o.profile),
          result: a.result,
          confidence: a.confidence,
          confidenceSource: a.confidenceSource,
          image: { width: a.image.width, height: a.image.height, format: a.image.format },
          model: a.model,
          timings: { readMs, preprocessMs: null, modelMs: null, totalMs: elapsed(t0) },
          reused: { from: 'service-cache', ...(entry.sourceDocumentId === null ? {} : { name: entry.sourceDocumentId }) },
        };
      }
    }

    let estimate: RequestEstimate | undefined;
    if (o.pricing !== null) {
      const sent = await sentFromHeader(bytes, o.profile.detail);
      if (sent !== undefined) estimate = estimateRequest(o.profile, sent, o.pricing);
    }
    const reserve = estimate?.costUsd ?? 0;
    if (o.maxCostUsd !== null && estimate !== undefined) {
      const spent = spentBefore + (progress.costUsd ?? 0);
      // Checked and reserved in one synchronous step, so parallel workers cannot each take the last dollar.
      if (spent + reserved + reserve > o.maxCostUsd) {
        stopped = 'max-cost';
        return undefined;
      }
    }
    reserved += reserve;
    try {
      const r = await classifyBytes(bytes, o.profile, { classifier: o.classifier, limits: o.limits }, o.abort);
      const c = r.classification;
      const est = estimateRequest(o.profile, sentOf(r.image), o.pricing);
      return {
        ...base(item, t0),
        sha256,
        size,
        status: r.status,
        result: c.result,
        confidence: c.confidence,
        confidenceSource: c.confidenceSource,
        image: { width: r.image.original.width, height: r.image.original.height, format: r.image.original.format },
        model: c.model,
        usage: { promptTokens: c.usage.promptTokens, completionTokens: c.usage.completionTokens, ...(c.usage.cachedTokens === undefined ? {} : { cachedTokens: c.usage.cachedTokens }), costUsd: o.pricing === null ? 0 : c.usage.costUsd, modelCalls: c.calls },
        timings: { readMs, preprocessMs: r.timings.preprocessMs, modelMs: r.timings.modelMs, totalMs: elapsed(t0) },
        ...(o.pricing === null ? {} : { estimate: { promptTokens: est.promptTokens, maxTokens: est.maxTokens, costUsd: est.costUsd } }),
      };
    } catch (e) {
      if (o.abort.aborted) return errorRecord(item, t0, sha256, size, readMs, 'failed', 'aborted', 'The run was aborted during this image.', null, estimate);
      if (isPermanentError(e)) {
        const details = e.details ?? {};
        const usage = details['usage'] as { promptTokens?: number; completionTokens?: number; costUsd?: number | null } | undefined;
        const calls = typeof details['calls'] === 'number' ? details['calls'] : usage === undefined ? 0 : 1;
        return errorRecord(item, t0, sha256, size, readMs, FAILED_CODES.has(e.code) ? 'failed' : 'rejected', e.code, e.message, usage === undefined ? null : { ...usage, calls }, estimate);
      }
      if (isTransientError(e)) return errorRecord(item, t0, sha256, size, readMs, 'failed', e.code, `${e.message} (retried by the model client; run again with --resume to try once more)`, null, estimate);
      return errorRecord(item, t0, sha256, size, readMs, 'failed', 'internal_error', e instanceof Error ? e.message : String(e), null, estimate);
    } finally {
      reserved -= reserve;
    }
  }

  function errorRecord(
    item: Extract<SourceItem, { kind: 'bytes' }>,
    t0: number,
    sha256: string,
    size: number,
    readMs: number,
    status: 'rejected' | 'failed',
    code: string,
    message: string,
    paid: { promptTokens?: number; completionTokens?: number; costUsd?: number | null; calls: number } | null,
    estimate: RequestEstimate | undefined,
  ): PredictionRecord {
    return {
      ...base(item, t0),
      sha256,
      size,
      status,
      error: { code, message },
      model: paid === null ? null : { ...o.classifier.info, reportedModel: null },
      usage: paid === null ? { promptTokens: 0, completionTokens: 0, costUsd: 0, modelCalls: 0 } : { promptTokens: paid.promptTokens ?? 0, completionTokens: paid.completionTokens ?? 0, costUsd: paid.costUsd ?? null, modelCalls: paid.calls },
      timings: { readMs, preprocessMs: null, modelMs: null, totalMs: elapsed(t0) },
      ...(paid === null || estimate === undefined ? {} : { estimate: { promptTokens: estimate.promptTokens, maxTokens: estimate.maxTokens, costUsd: estimate.costUsd } }),
    };
  }

  let next = 0;
  const worker = async (): Promise<void> => {
    while (!o.stop.aborted && !o.abort.aborted && stopped === null) {
      const item = o.items[next++];
      if (item === undefined) return;
      if ((await labelOne(item)) === 'stop') return;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, o.items.length)) }, worker));
  } finally {
    predictions.close();
    failures.close();
  }
  if (stopped === null && (o.stop.aborted || o.abort.aborted) && next < o.items.length + 1 && progress.done < progress.total) stopped = 'interrupted';

  const ended = now();
  const session: RunSession = { startedAt: started.toISOString(), endedAt: ended.toISOString(), wallMs: ended.getTime() - started.getTime(), processed, skipped: progress.skipped, stopped };
  const after = o.run.readContents();
  const summary = summarizeRun({
    id: o.config.id,
    profile: { name: o.profile.name, version: o.profile.version },
    model: { provider, deployment },
    records: after.records,
    sessions: [...(o.run.readSummary()?.sessions ?? []), session],
    corruptLines: after.corrupt.length,
    now: ended,
  });
  o.run.writeSummary(summary);
  return { summary, session, corrupt: opened.corrupt, progress };
}

function elapsed(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}
