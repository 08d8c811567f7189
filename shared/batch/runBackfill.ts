/**
 * A backfill through the Azure OpenAI Batch API: build one request per image that still needs an answer (the exact
 * request the online classifier sends, on the Global-Batch deployment), split it over files within Azure's limits,
 * upload, create the batches, wait for them, download what they returned, and write the answers into the run folder
 * through labelRun, the same path as `blobsight label` (one line per image, resume without paying twice).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

import type { LabelProgress, LabelRunResult } from '../cli/labelRun';
import { labelRun } from '../cli/labelRun';
import type { SourceItem } from '../cli/sources/sourceItem';
import type { ModelPrice } from '../config';
import type { Classifier, ModelInfo } from '../model';
import { buildChatRequest, costUsd } from '../model';
import { buildMultiImageRequest, MAX_IMAGES_PER_REQUEST } from '../model/multiImageRequest';
import { preprocessImage } from '../preprocess';
import type { PreprocessedImage } from '../preprocess/preprocessedImage';
import type { Profile } from '../profiles';
import type { RunConfig, RunFolder } from '../runs';
import { BatchAnswerClassifier } from './BatchAnswerClassifier';
import type { BatchApi, BatchJob } from './BatchApi';
import { BATCH_ENDPOINT } from './BatchApi';
import { batchPrices } from './batchPrices';
import type { BatchProgressState } from './BatchProgress';
import type { BatchPart, BatchState } from './batchState';
import { readBatchState, TERMINAL_STATUSES, writeBatchState } from './batchState';
import { groupCustomId } from './groupCustomId';
import type { BatchLineResult } from './parseBatchOutput';
import { parseBatchOutput } from './parseBatchOutput';
import type { ServicePlan, ServiceStoreResult, ServiceTarget } from './serviceTarget';
import { planService, storeInService } from './serviceTarget';
import type { BatchFileLimits } from './splitBatchInput';
import { BATCH_FILE_LIMITS, splitBatchInput } from './splitBatchInput';

export interface BackfillOptions {
  items: readonly SourceItem[];
  profile: Profile;
  run: RunFolder;
  config: RunConfig;
  limits: { maxBytes: number; maxPixels: number };
  logprobs: boolean;
  api: BatchApi;
  /** The Global-Batch deployment, named in every line's body. */
  deployment: string;
  info: ModelInfo;
  /** The online price table; batch lines are priced at batchPrices of it. */
  prices: Readonly<Record<string, ModelPrice>>;
  /** Answers images the batch did not (failed lines, expired or cancelled batches); none: they are listed as failed. */
  online?: Classifier;
  /** Continue with this batch (its input file says which images it holds) instead of creating new ones. */
  resumeBatchId?: string;
  pollMs: number;
  fileLimits?: BatchFileLimits;
  concurrency: number;
  /** First Ctrl-C: stop waiting (the batches keep running at Azure; resume later). */
  stop: AbortSignal;
  abort: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
  onBatchProgress?: (p: BatchProgressState) => void;
  onLabelProgress?: (p: LabelProgress) => void;
  /**
   * Store into the service (a container source): answers go through the service's own event path into its Cosmos
   * documents and content cache instead of the run folder, which then only keeps the batch files and batch.json.
   */
  service?: ServiceTarget;
}

export interface BackfillResult {
  state: BatchState;
  /** False when the wait was interrupted before every batch ended (nothing was stored yet). */
  finished: boolean;
  /** Into a run folder: what labelRun wrote. Undefined into the service, or when not finished. */
  label: LabelRunResult | undefined;
  /** Into the service: what the service's event path stored. */
  service?: ServiceStoreResult;
  /** Into the service: blobs this backfill left alone, and why (already final, another profile, ...). */
  skipped: { name: string; reason: string }[];
  requests: number;
  fromBatch: number;
  online: number;
  unanswered: number;
  /** What the batch answers cost at batch prices, and what the same tokens would have cost online. */
  batchCostUsd: number | null;
  onlineEquivalentUsd: number | null;
  problems: string[];
}

export const inputFileName = (index: number): string => `batch-${index}-input.jsonl`;
export const outputFileName = (index: number): string => `batch-${index}-output.jsonl`;
export const errorFileName = (index: number): string => `batch-${index}-errors.jsonl`;

export async function runBackfill(o: BackfillOptions): Promise<BackfillResult> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  // The service decides which of its blobs still need an answer, exactly as it would for an event now.
  const plan = o.service === undefined ? undefined : await planService(o.items.map((i) => i.name), o.service, o.profile);
  const skipped = plan?.skipped ?? [];
  const save = (s: BatchState): void => writeBatchState(o.run.dir, s);
  let state = readBatchState(o.run.dir);
  if (state !== undefined && (state.profile.name !== o.profile.name || state.profile.version !== o.profile.version || state.deployment !== o.deployment)) {
    throw new Error(`${o.run.dir} holds batches for ${state.profile.name} ${state.profile.version} on ${state.deployment}; this backfill is ${o.profile.name} ${o.profile.version} on ${o.deployment}.`);
  }

  if (o.resumeBatchId !== undefined && state?.parts.some((p) => p.batchId === o.resumeBatchId) !== true) {
    // After a crash before batch.json knew the batch: its input file says which images it holds.
    const job = await o.api.get(o.resumeBatchId);
    const input = await o.api.download(job.inputFileId);
    const customIds = input.split('\n').filter((l) => l.trim() !== '').map((l) => (JSON.parse(l) as { custom_id: string }).custom_id);
    const parts = state?.parts ?? [];
    parts.push({ ...emptyPart(parts.length + 1, customIds), inputFileId: job.inputFileId, batchId: job.id, status: job.status });
    state = { version: 1, profile: { name: o.profile.name, version: o.profile.version }, deployment: o.deployment, parts };
    save(state);
  }

  // A new backfill, or one into a folder whose earlier batches are all settled: send what the run still lacks.
  if (state === undefined || (o.resumeBatchId === undefined && state.parts.every((p) => p.downloaded))) {
    const lines = await buildLines(o, plan);
    const files = splitBatchInput(lines.map((l) => l.text), o.fileLimits ?? BATCH_FILE_LIMITS);
    const earlier = state?.parts ?? [];
    let offset = 0;
    const parts: BatchPart[] = files.map((f, i) => {
      const ids = lines.slice(offset, offset + f.length).map((l) => l.customId);
      offset += f.length;
      const index = earlier.length + i + 1;
      // Kept in the run folder so a crash before the upload loses nothing.
      writeFileSync(o.run.path(inputFileName(index)), f.map((l) => `${l}\n`).join(''));
      return emptyPart(index, ids);
    });
    state = { version: 1, profile: { name: o.profile.name, version: o.profile.version }, deployment: o.deployment, parts: [...earlier, ...parts] };
    save(state);
  }
  const pending = state.parts.filter((p) => !p.downloaded);

  for (const part of state.parts) {
    if (part.inputFileId === null) {
      const file = o.run.path(inputFileName(part.index));
      part.inputFileId = await o.api.upload(`${o.config.id}-${part.index}.jsonl`, readFileSync(file, 'utf8'));
      save(state);
    }
    if (part.batchId === null) {
      const job = await o.api.create(part.inputFileId, { run: o.config.id, part: `${part.index}/${state.parts.length}` });
      part.batchId = job.id;
      part.status = job.status;
      save(state);
    }
  }

  const jobs = new Map<string, BatchJob>();
  while (!o.stop.aborted) {
    for (const part of state.parts) {
      if (part.batchId === null || part.downloaded || (part.status !== null && TERMINAL_STATUSES.has(part.status) && jobs.has(part.batchId))) continue;
      const job = await o.api.get(part.batchId);
      jobs.set(part.batchId, job);
      const changed = job.status !== part.status || job.outputFileId !== part.outputFileId || job.errorFileId !== part.errorFileId;
      Object.assign(part, { status: job.status, outputFileId: job.outputFileId, errorFileId: job.errorFileId, errors: job.errors });
      if (changed) save(state);
    }
    o.onBatchProgress?.(progressOf(state, jobs));
    if (state.parts.every((p) => p.status !== null && TERMINAL_STATUSES.has(p.status))) break;
    await sleep(o.pollMs);
  }
  const problems: string[] = [];
  // Requests of the batches this call created or waited for (settled ones of earlier calls are not counted again).
  const requests = pending.reduce((n, p) => n + p.customIds.length, 0);
  if (!state.parts.every((p) => p.status !== null && TERMINAL_STATUSES.has(p.status))) {
    return { state, finished: false, label: undefined, skipped, requests, fromBatch: 0, online: 0, unanswered: 0, batchCostUsd: null, onlineEquivalentUsd: null, problems };
  }

  for (const part of state.parts) {
    if (part.downloaded) continue;
    if (part.outputFileId !== null) writeFileSync(o.run.path(outputFileName(part.index)), await o.api.download(part.outputFileId));
    if (part.errorFileId !== null) writeFileSync(o.run.path(errorFileName(part.index)), await o.api.download(part.errorFileId));
    part.downloaded = true;
    save(state);
  }

  const results = new Map<string, BatchLineResult>();
  for (const part of state.parts) {
    for (const name of [errorFileName(part.index), outputFileName(part.index)]) {
      const file = o.run.path(name);
      if (existsSync(file)) parseBatchOutput(readFileSync(file, 'utf8'), results, problems, name);
    }
    for (const e of part.errors) problems.push(`batch ${part.index} (${part.batchId ?? '?'}) ${part.status ?? ''}: ${e.code}: ${e.message}${e.line === null ? '' : ` (line ${e.line})`}`);
  }

  const prices = batchPrices(o.prices);
  let batchCostUsd: number | null = 0;
  let onlineEquivalentUsd: number | null = 0;
  for (const r of results.values()) {
    if (r.kind !== 'answer') continue;
    const usage = { promptTokens: r.completion.usage?.prompt_tokens ?? 0, completionTokens: r.completion.usage?.completion_tokens ?? 0 };
    const b = costUsd(usage, r.completion.model, prices, o.deployment);
    const on = costUsd(usage, r.completion.model, o.prices, o.deployment);
    batchCostUsd = batchCostUsd === null || b === null ? null : batchCostUsd + b;
    onlineEquivalentUsd = onlineEquivalentUsd === null || on === null ? null : onlineEquivalentUsd + on;
  }

  const online = o.online;
  const profileRef = { name: o.profile.name, version: o.profile.version };
  if (o.service !== undefined && plan !== undefined) {
    // Presented under the service's model identity so the cache entries are the ones its later events look up.
    const keyInfo = o.service.deps.classifier.info;
    const classifier = new BatchAnswerClassifier({ results, prices, info: o.info, keyInfo, profile: profileRef, logprobs: o.logprobs, ...(online === undefined ? {} : { online }) });
    const service = await storeInService(plan, o.service, classifier, o.concurrency, o.abort);
    return { state, finished: true, label: undefined, service, skipped, requests, ...classifier.counts, batchCostUsd, onlineEquivalentUsd, problems };
  }
  const classifier = new BatchAnswerClassifier({ results, prices, info: o.info, profile: profileRef, logprobs: o.logprobs, ...(online === undefined ? {} : { online }) });
  // Images the run already answered, by either deployment (an online retry is recorded under the online one), are left
  // out: labelRun alone would only skip those of the batch deployment and pay for the others again.
  const done = doneInRun(o);
  const label = await labelRun({
    items: o.items.filter((i) => !done.names.has(i.name)),
    profile: o.profile,
    classifier,
    limits: o.limits,
    pricing: { prices, modelName: o.deployment },
    run: o.run,
    config: o.config,
    concurrency: o.concurrency,
    maxCostUsd: null,
    stop: o.abort,
    abort: o.abort,
    ...(o.onLabelProgress === undefined ? {} : { onProgress: o.onLabelProgress }),
  });
  return { state, finished: true, label, skipped, requests, ...classifier.counts, batchCostUsd, onlineEquivalentUsd, problems };
}

function emptyPart(index: number, customIds: string[]): BatchPart {
  return { index, customIds, inputFileId: null, batchId: null, status: null, outputFileId: null, errorFileId: null, downloaded: false, errors: [] };
}

function progressOf(state: BatchState, jobs: ReadonlyMap<string, BatchJob>): BatchProgressState {
  let total = 0;
  let completed = 0;
  let failed = 0;
  for (const part of state.parts) {
    const job = part.batchId === null ? undefined : jobs.get(part.batchId);
    total += job?.counts.total || part.customIds.length;
    completed += job?.counts.completed ?? 0;
    failed += job?.counts.failed ?? 0;
  }
  return { total, completed, failed, statuses: state.parts.map((p) => p.status ?? 'new') };
}

/**
 * One line per image content not yet answered in this run: images the run already holds (by name, or the same bytes
 * under another name) are not sent, so resuming or re-running a backfill never pays for them again. An image that
 * cannot be read or preprocessed is not sent either: labelRun records it as rejected without a model call.
 */
function doneInRun(o: BackfillOptions): { names: Set<string>; answeredSha: Set<string> } {
  const opened = o.run.readContents();
  const same = (r: (typeof opened.records)[number]): boolean => r.profile.name === o.profile.name && r.profile.version === o.profile.version;
  const answered = (r: (typeof opened.records)[number]): boolean => r.status === 'classified' || r.status === 'needs_review';
  return {
    names: new Set(opened.records.filter((r) => same(r) && (answered(r) || r.status === 'rejected')).map((r) => r.name)),
    answeredSha: new Set(opened.records.filter((r) => same(r) && answered(r) && r.sha256 !== null).map((r) => r.sha256 as string)),
  };
}

async function buildLines(o: BackfillOptions, plan: ServicePlan | undefined): Promise<{ customId: string; text: string }[]> {
  // Into the service, its own decision says what to send; into a run folder, what the run already holds.
  const done = plan === undefined ? doneInRun(o) : { names: new Set<string>(), answeredSha: new Set<string>() };
  const wanted = (name: string): boolean => (plan === undefined ? !done.names.has(name) : plan.work.has(name));
  const seen = done.answeredSha;
  const per = o.profile.kind === 'objects' ? 1 : Math.min(o.profile.imagesPerRequest ?? 1, MAX_IMAGES_PER_REQUEST);
  const lines: { customId: string; text: string }[] = [];
  let group: { sha256: string; image: PreprocessedImage }[] = [];
  const single = (sha256: string, image: PreprocessedImage): void => {
    const body = buildChatRequest(o.profile, image, { model: o.deployment, logprobs: o.logprobs });
    // custom_id is the content hash: unique per batch (identical bytes are sent once) and what the answer is matched on.
    lines.push({ customId: sha256, text: JSON.stringify({ custom_id: sha256, method: 'POST', url: BATCH_ENDPOINT, body }) });
  };
  const flush = (): void => {
    const [only] = group;
    if (group.length === 1 && only !== undefined) single(only.sha256, only.image);
    else if (group.length > 1 && o.profile.kind !== 'objects') {
      // Several images per line (the profile's imagesPerRequest): the id names them all, in answer order.
      const customId = groupCustomId(group.map((g) => g.sha256));
      const body = buildMultiImageRequest(o.profile, group.map((g) => g.image), { model: o.deployment });
      lines.push({ customId, text: JSON.stringify({ custom_id: customId, method: 'POST', url: BATCH_ENDPOINT, body }) });
    }
    group = [];
  };
  for (const item of o.items) {
    if (item.kind !== 'bytes' || !wanted(item.name)) continue;
    const read = await item.read(o.abort);
    if (read.kind !== 'ok' || seen.has(read.sha256)) continue;
    seen.add(read.sha256);
    let image: PreprocessedImage;
    try {
      image = await preprocessImage(read.bytes, { detail: o.profile.detail, ...o.limits });
    } catch {
      // Not sent: the store step records it as rejected without a model call.
      continue;
    }
    if (per <= 1) single(read.sha256, image);
    else {
      group.push({ sha256: read.sha256, image });
      if (group.length >= per) flush();
    }
  }
  flush();
  return lines;
}
