/**
 * The one function the flow runs for a blob event: parse, look at the blob itself, decide, claim, download,
 * preprocess, classify (or reuse), store. Events are hints; the blob's own properties are the truth.
 */
import { createHash, randomUUID } from 'node:crypto';

import type { ContainerClient } from '@azure/storage-blob';

import type { DownloadResult } from '../blob';
import { downloadBlob } from '../blob';
import type { BlobState } from '../blob/readBlobState';
import { readBlobState, sameETag } from '../blob/readBlobState';
import type { ErrorCode, PermanentError } from '../errors';
import { isPermanentError, isTransientError, TransientError } from '../errors';
import type { BlobEvent } from '../events';
import { BLOB_DELETED, parseBlobEvent } from '../events';
import type { Logger } from '../logging';
import { silentLogger } from '../logging';
import type { Classifier } from '../model/classifier';
import type { ModelAttemptHooks } from '../model/modelAttempts';
import { classifierFor } from '../model/routing/RoutingClassifier';
import type { OutboundMark, Outbox } from '../outbound';
import type { ProfileRegistry, ResolvedProfile } from '../profiles';
import { resolveProfile } from '../profiles';
import type { CacheEntry, ImageDocument, ImageStore, ResultCache } from '../store';
import { documentId } from '../store';
import { inSpan, recordImageOutcome, recordRedelivery, traceBlobEvent } from '../telemetry';
import { ClaimHandle, freshDocument } from './ClaimHandle';
import type { ClassifyBytesResult } from './classifyBytes';
import { classifyBytes, round } from './classifyBytes';
import { decide } from './decide';
import { classificationFields, decideStatus, flattenLabels } from './decideStatus';
import { preprocessAhead } from './preprocessAhead';
import { markDeleted, processBlobDeleted } from './processBlobDeleted';
import type { StageRecorder } from './stageRecorder';
import { startStage, timed } from './stageRecorder';
import type { StatsHooks } from './statsHooks';
import { countResult } from './statsHooks';

export interface PipelineDeps {
  /** The container named by IMAGES_CONTAINER; events for any other container are ignored. */
  images: ContainerClient;
  store: ImageStore;
  /** Answers by content hash; without it every image version is sent to the model. */
  cache?: ResultCache;
  classifier: Classifier;
  profiles: ProfileRegistry;
  defaultProfile: string;
  limits: { maxBytes: number; maxPixels: number };
  /** Time this invocation may take before it gives up and asks for redelivery (Event Grid waits 30 s). */
  budgetMs?: number;
  /** How long a claim keeps other deliveries of the same version away; longer than the budget. */
  leaseMs?: number;
  /** Paid model requests per image version (MAX_MODEL_ATTEMPTS); then the version ends `failed`. */
  maxModelAttempts?: number;
  log?: Logger;
  now?: () => Date;
  /** Identifies this invocation in leases; random per call by default (two deliveries in one process are two claimants). */
  owner?: string;
  /** Per-day counters (GET /api/stats) and the daily spending cap; absent: nothing counted, no cap. */
  stats?: NonNullable<StatsHooks['stats']>;
  budget?: NonNullable<StatsHooks['budget']>;
  /** Outbound events (OUTBOUND_TOPIC_ENDPOINT / OUTBOUND_WEBHOOKS); none are published without it. */
  outbound?: Outbox;
  /** Times each stage of the flow (the perf bench, ordering tests); absent in production. */
  stages?: StageRecorder;
}

export type BlobOutcome =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'duplicate'; document: ImageDocument }
  | { outcome: 'superseded'; reason: string }
  | { outcome: 'deleted'; document: ImageDocument }
  | { outcome: 'classified' | 'needs_review' | 'rejected' | 'failed'; document: ImageDocument };

export const DEFAULT_BUDGET_MS = 25_000;
export const DEFAULT_LEASE_MS = 60_000;
export const DEFAULT_MAX_MODEL_ATTEMPTS = 3;

/** Codes after which the image itself was fine but no answer could be had: `failed`, not `rejected`. */
const FAILED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['model_invalid_output', 'model_bad_request']);

/** Lost races on the claim write before the event is handed back for redelivery. */
const MAX_CLAIM_TRIES = 5;

type FinalOutcome = Extract<BlobOutcome, { outcome: 'classified' | 'needs_review' | 'rejected' | 'failed' }>;

/**
 * Processes one Event Grid / CloudEvents blob event. Returns what happened; throws TransientError (or any unexpected
 * error) when the event must be delivered again, so Event Grid's retry schedule and dead-lettering apply. Never writes
 * a final state for a transient fault (short of the paid-attempt cap).
 */
export function processBlobCreated(input: unknown, deps: PipelineDeps, signal?: AbortSignal): Promise<BlobOutcome> {
  // One trace per delivery; the outbound event goes out once the document is final (also for a duplicate delivery
  // whose earlier publish failed), outside the claim's error handling: the document stays as it is if it fails.
  return traceBlobEvent(input, async () => {
    const out = await processEvent(input, deps, signal);
    if (!('document' in out)) return out;
    // Both once the document is durable, side by side: neither waits on the other, and either failing asks for a
    // redelivery, which finds the final document (`duplicate`) and counts / publishes what is still missing.
    const outbound = deps.outbound;
    const [counted, published] = await Promise.allSettled([
      timed(deps.stages, 'stats.count', () => countResult(out, deps)),
      outbound === undefined ? Promise.resolve() : timed(deps.stages, 'outbound.publish', () => deliverOutbound(outbound, out.document)),
    ]);
    if (counted.status === 'rejected') throw counted.reason;
    if (published.status === 'rejected') throw published.reason;
    return out;
  });
}

async function deliverOutbound(outbox: Outbox, doc: ImageDocument): Promise<void> {
  if (doc.outbound?.pending !== true) return;
  try {
    await inSpan('outbound.publish', { 'blobsight.image.id': doc.id }, () => outbox.deliver(doc));
  } catch (e) {
    throw new TransientError('outbound_unavailable', `The document is final but its outbound event was not published: ${e instanceof Error ? e.message : String(e)}`, { cause: e, retryAfterMs: 30_000 });
  }
}

async function processEvent(input: unknown, deps: PipelineDeps, signal?: AbortSignal): Promise<BlobOutcome> {
  const log = deps.log ?? silentLogger;
  const parsed = parseBlobEvent(input);
  if (parsed.kind === 'malformed') {
    // Redelivering cannot fix a malformed event (or a refused blob name), and it names no blob we may read; the
    // reconcile sweep (blobs without a document) is what catches an image whose event was lost this way.
    log.error('ignoring malformed event', { reason: parsed.reason });
    return { outcome: 'ignored', reason: parsed.reason };
  }
  const event = parsed.event;
  if (event.container !== deps.images.containerName) return ignore(log, event, `container ${event.container} is not the images container ${deps.images.containerName}`);
  if (event.type === BLOB_DELETED) return processBlobDeleted(event, deps, log);

  const started = performance.now();
  const now = deps.now ?? ((): Date => new Date());
  const budgetMs = deps.budgetMs ?? DEFAULT_BUDGET_MS;
  const deadlineAt = Date.now() + budgetMs;
  const budget = AbortSignal.timeout(budgetMs);
  const deadline = signal === undefined ? budget : AbortSignal.any([signal, budget]);
  const id = documentId(event.container, event.blobName);
  const owner = deps.owner ?? `claim-${randomUUID()}`;

  // Decide before downloading: a HEAD and a point read settle duplicates, late events and live claims without
  // reading the bytes. Only a delivery that goes on to claim downloads, alongside its claim write (a lost race aborts
  // it), so concurrent duplicates still read the bytes about once and the claim adds no round trip of its own.
  let claim: ClaimHandle | undefined;
  let blob: Extract<BlobState, { exists: true }> | undefined;
  let download: Promise<TimedDownload> | undefined;
  let previousOutbound: OutboundMark | null | undefined;
  // Today's cost (a query at most every DAILY_BUDGET cache interval) is read alongside the first reads; only new work waits on it.
  const budgetGate = deps.budget === undefined ? undefined : startBudgetCheck(deps.budget, deps.stages, now());
  for (let attempt = 1; claim === undefined; attempt++) {
    const [stored, state] = await Promise.all([timed(deps.stages, 'cosmos.read', () => deps.store.get(id)), timed(deps.stages, 'blob.properties', () => readBlobState(deps.images, event.blobName, deadline))]);
    const d = decide(event, stored, state, now());
    switch (d.action) {
      case 'ignore':
        return ignore(log, event, d.reason);
      case 'superseded':
        log.info('event for a version the blob no longer has; skipping it', { id, reason: d.reason });
        return { outcome: 'superseded', reason: d.reason };
      case 'duplicate':
        if (stored === undefined) throw new Error('unreachable: duplicate without a document');
        log.info('duplicate delivery: this blob version already has a final document', { id, eTag: stored.blob.eTag, status: stored.status });
        recordRedelivery('duplicate');
        // Counted too (once, by its key, in processBlobCreated): a crash between the final write and its count is repaired by the redelivery.
        return { outcome: 'duplicate', document: stored };
      case 'in-flight':
        // Ask for redelivery rather than acknowledge: if that worker dies, the retry finds its lease expired and takes over.
        throw inFlight(state.exists ? state.eTag : event.eTag);
      case 'mark-deleted':
      case 'already-deleted': {
        if (stored === undefined) throw new Error('unreachable: delete without a document');
        const marked = await markDeleted(deps.store, stored, now());
        if (marked === 'conflict') break;
        log.info('blob is gone: document marked deleted', { id });
        return { outcome: 'deleted', document: marked };
      }
      case 'claim': {
        if (!state.exists) throw new Error('unreachable: claim without a blob');
        // New work only: over DAILY_BUDGET_USD this throws before anything is written, and the event comes back later.
        if (budgetGate !== undefined) await budgetGate;
        const t = now();
        const fresh = freshDocument(id, event.container, event.blobName, state, event, t);
        const lease = { owner, expiresAt: new Date(t.getTime() + (deps.leaseMs ?? DEFAULT_LEASE_MS)).toISOString() };
        // Exactly the version just decided on (If-Match); nothing of it is used unless the claim below is ours.
        const stop = new AbortController();
        const bytes = startDownload(deps, event.blobName, state.eTag, AbortSignal.any([deadline, stop.signal]), id);
        let taken: ClaimHandle | 'conflict';
        try {
          taken = await timed(deps.stages, 'cosmos.claim', () => inSpan('cosmos.claim', { 'blobsight.image.id': id }, () => ClaimHandle.take(deps.store, stored, fresh, d.kind === 'take-over', lease, t)));
        } catch (e) {
          stop.abort();
          throw e;
        }
        if (taken === 'conflict') {
          stop.abort();
          break;
        }
        if (d.kind === 'take-over') recordRedelivery('take-over');
        claim = taken;
        blob = state;
        download = bytes;
        previousOutbound = stored?.outbound;
        break;
      }
    }
    if (claim === undefined && attempt >= MAX_CLAIM_TRIES) throw inFlight(event.eTag);
  }
  if (blob === undefined) throw new Error('unreachable: claimed without a blob');
  if (download === undefined) throw new Error('unreachable: claimed without a download');
  return work(event, deps, claim, blob, download, { log, now, owner, started, deadline, budget, budgetMs, deadlineAt, signal, previousOutbound });
}

interface TimedDownload {
  result: DownloadResult;
  ms: number;
}

/** The download under way; never rejects unhandled (a lost claim race aborts it and nobody awaits it). */
function startDownload(deps: PipelineDeps, name: string, eTag: string, signal: AbortSignal, id: string): Promise<TimedDownload> {
  const t = performance.now();
  const p = timed(deps.stages, 'blob.download', () => inSpan('blob.download', { 'blobsight.image.id': id }, () => downloadBlob(deps.images, name, { maxBytes: deps.limits.maxBytes, signal, eTag }))).then((result) => ({ result, ms: round(performance.now() - t) }));
  p.catch(() => undefined);
  return p;
}

/** The budget check started early; awaited only by a delivery that is about to claim new work. */
function startBudgetCheck(budget: NonNullable<PipelineDeps['budget']>, stages: StageRecorder | undefined, at: Date): Promise<void> {
  const p = timed(stages, 'budget.check', () => budget.check(at));
  p.catch(() => undefined);
  return p;
}

interface Run {
  log: Logger;
  now: () => Date;
  owner: string;
  started: number;
  deadline: AbortSignal;
  budget: AbortSignal;
  budgetMs: number;
  deadlineAt: number;
  /** The caller's own signal (e.g. shutdown), without the budget. */
  signal: AbortSignal | undefined;
  /** The outbox mark before this claim: a version already published is not published again. */
  previousOutbound: OutboundMark | null | undefined;
}

/** We hold the claim on the blob's current version: download exactly it, classify, and write the final state. */
async function work(event: BlobEvent, deps: PipelineDeps, claim: ClaimHandle, blob: Extract<BlobState, { exists: true }>, downloading: Promise<TimedDownload>, r: Run): Promise<BlobOutcome> {
  const { log, now } = r;
  const id = claim.doc.id;
  const maxAttempts = deps.maxModelAttempts ?? DEFAULT_MAX_MODEL_ATTEMPTS;
  // Paid model requests for this version: persisted before each is sent, uncounted when the service billed nothing.
  let paid = claim.doc.modelAttempts ?? 0;
  let downloadMs: number | null = null;
  // The first paid attempt's mark, written while preprocessing runs instead of after it (see beforeAttempt).
  let earlyMark: Promise<boolean> | undefined;
  // The content cache's answer, written alongside the final document rather than before it.
  let cacheWrite: Promise<void> | undefined;
  /** Every other write through the claim waits for the early mark: the claim's writes are chained by etag. */
  const settleEarlyMark = async (): Promise<void> => {
    const m = earlyMark;
    earlyMark = undefined;
    if (m !== undefined) await m.catch(() => false);
  };

  const finish = async (over: Partial<ImageDocument>): Promise<BlobOutcome> => {
    await settleEarlyMark();
    const mark = deps.outbound === undefined ? {} : { outbound: deps.outbound.markFor({ ...claim.doc, ...over }, r.previousOutbound) };
    // `paid` counts only requests sent: an early mark that was not used (a cache hit, a refused image) is undone here.
    const patch = { ...over, ...mark, finishedAt: now().toISOString(), modelAttempts: paid, timings: { ...(over.timings ?? claim.doc.timings), downloadMs, totalMs: round(performance.now() - r.started) } };
    const [stored] = await Promise.all([timed(deps.stages, 'cosmos.finish', () => inSpan('cosmos.finish', { 'blobsight.image.id': id }, () => claim.finish(patch, now()))), cacheWrite]);
    if (stored === 'lost') {
      log.warn('lost the claim before the final write (lease expired, newer version or delete); dropping this result', { id });
      return { outcome: 'superseded', reason: 'another worker took the claim over' };
    }
    recordImageOutcome(stored);
    log.info('image processed', { id, blob: event.blobName, status: stored.status, code: stored.error?.code, cached: stored.cached !== null && stored.cached !== undefined, modelAttempts: paid });
    return { outcome: stored.status, document: stored } as FinalOutcome;
  };

  try {
    const { result: download, ms } = await downloading;
    downloadMs = ms;
    switch (download.kind) {
      case 'superseded':
        // Overwritten since the HEAD: that write's own event takes the claim over (a new version always may).
        await claim.release({}, null, now());
        log.info('blob was overwritten while claiming; leaving it to the newer version', { id, eTag: blob.eTag });
        return { outcome: 'superseded', reason: 'the blob was overwritten by a newer version' };
      case 'not-found': {
        const marked = await claim.finish({ status: 'deleted' }, now());
        log.info('blob was deleted while claiming: document marked deleted', { id });
        return marked === 'lost' ? { outcome: 'superseded', reason: 'another worker took the claim over' } : { outcome: 'deleted', document: marked };
      }
      case 'too-large':
        return await finish({
          status: 'rejected',
          blob: { ...claim.doc.blob, contentLength: download.contentLength },
          error: {
            code: 'too_large',
            message: `The blob is ${download.contentLength} bytes; the limit is ${deps.limits.maxBytes} bytes (MAX_IMAGE_BYTES).`,
            details: { contentLength: download.contentLength, maxBytes: deps.limits.maxBytes },
          },
        });
      case 'ok':
        break;
    }
    if (!sameETag(download.eTag, blob.eTag)) throw new TransientError('storage_unavailable', `Storage returned version ${download.eTag} for If-Match ${blob.eTag}`);

    let resolved: ResolvedProfile;
    try {
      resolved = resolveProfile(event.blobName, download.metadata, deps.profiles, deps.defaultProfile);
    } catch (e) {
      if (!isPermanentError(e)) throw e;
      return await finish({ status: 'rejected', error: errorOf(e) });
    }
    const profile = resolved.profile;
    const profileRef = { name: profile.name, version: profile.version };
    // The profile's own model when it names one (profile `model`): its identity keys the content cache and is stored.
    const classifier = classifierFor(deps.classifier, profile);

    const attempts: ModelAttemptHooks = {
      deadlineAt: r.deadlineAt,
      beforeAttempt: async () => {
        if (paid >= maxAttempts) throw new TransientError('model_timeout', `The model was asked ${paid} times for this image version (MAX_MODEL_ATTEMPTS ${maxAttempts}); not asking again.`, { details: { capReached: true } });
        const early = earlyMark;
        earlyMark = undefined;
        paid++;
        // Still written (and still ours) before the request goes out: the early mark is awaited here, not skipped.
        const marked = early ?? timed(deps.stages, 'cosmos.attempt', () => claim.update({ modelAttempts: paid }, now()));
        if (!(await marked)) throw new TransientError('in_flight', 'Lost the claim before the model call; the new holder carries on.');
      },
      notBilled: () => {
        paid--;
      },
    };
    // Under way while the content cache is read and leased; dropped on a hit.
    const preprocess = classifier.supportedKinds.includes(profile.kind) ? preprocessAhead(download.bytes, { detail: profile.detail, maxBytes: deps.limits.maxBytes, maxPixels: deps.limits.maxPixels }, deps.stages) : undefined;
    // The first attempt's mark goes out now, beside preprocessing and the cache lookup, so the model call does not
    // queue behind a Cosmos write. It counts one request more than sent until the request is sent; every later write
    // of the claim writes the true count (`paid`), so only a crash in that window leaves one attempt counted unpaid,
    // as a crash right after the mark always could.
    if (preprocess !== undefined && paid < maxAttempts) {
      const m = timed(deps.stages, 'cosmos.attempt', () => claim.update({ modelAttempts: paid + 1 }, now()));
      m.catch(() => undefined);
      earlyMark = m;
    }
    const classify = async (): Promise<ClassifyBytesResult> => {
      if (paid >= maxAttempts) throw new TransientError(capCode(claim.doc.lastError), `The model was asked ${paid} times for this image version (MAX_MODEL_ATTEMPTS ${maxAttempts}); not asking again.`, { details: { capReached: true } });
      // Not the budget's signal: an attempt only starts when it fits the budget (the gate), and cutting off one the
      // service already answered would pay for it again on redelivery. The caller's signal (shutdown) still aborts.
      return classifyBytes(download.bytes, profile, { classifier, limits: deps.limits, ...(preprocess === undefined ? {} : { preprocess }), ...(deps.stages === undefined ? {} : { stages: deps.stages }) }, r.signal, attempts);
    };

    let outcome: { kind: 'fresh'; r: ClassifyBytesResult } | { kind: 'cached'; entry: CacheEntry };
    try {
      if (deps.cache !== undefined && classifier.supportedKinds.includes(profile.kind)) {
        // Pay once per content: the same bytes for the same profile version and model version reuse the stored answer.
        const sha256 = createHash('sha256').update(download.bytes).digest('hex');
        const claimed = startStage(deps.stages, 'cache.claim');
        let stored: (() => void) | undefined;
        const got = await deps.cache.getOrCompute(
          { sha256, profile: profile.name, profileVersion: profile.version, provider: classifier.info.provider, deployment: classifier.info.deployment },
          {
            owner: r.owner,
            leaseMs: deps.leaseMs ?? DEFAULT_LEASE_MS,
            now,
            reportedModel: classifier.lastReportedModel ?? null,
            onWriteError: (e) => log.warn('could not store the answer in the content cache', { id, error: e instanceof Error ? e.message : String(e) }),
            detachWrite: true,
          },
          async () => {
            claimed();
            const res = await classify();
            stored = startStage(deps.stages, 'cache.store');
            const c = res.classification;
            const image = imageFacts(res);
            return { value: res, answer: { result: c.result, confidence: c.confidence, confidenceSource: c.confidenceSource, usage: c.usage, model: c.model, image }, sourceDocumentId: id };
          },
        );
        claimed();
        if (got.kind === 'hit') outcome = { kind: 'cached', entry: got.entry };
        else {
          const end = stored;
          cacheWrite = got.written?.finally(() => end?.());
          outcome = { kind: 'fresh', r: got.value };
        }
      } else {
        outcome = { kind: 'fresh', r: await classify() };
      }
    } catch (e) {
      if (isTransientError(e) && e.code.startsWith('model_') && paid >= maxAttempts) {
        // The cap is reached: stop paying for this version and say why, rather than hand it back again.
        return await finish({ status: 'failed', profile: profileRef, model: { ...classifier.info, reportedModel: null }, error: { code: e.code, message: `Gave up after ${paid} paid model attempts (MAX_MODEL_ATTEMPTS ${maxAttempts}): ${e.message}`, details: { modelAttempts: paid, maxModelAttempts: maxAttempts } } });
      }
      if (!isPermanentError(e)) throw e;
      const status = FAILED_CODES.has(e.code) ? 'failed' : 'rejected';
      return await finish({
        status,
        profile: profileRef,
        model: status === 'failed' || e.code === 'content_filtered' ? { ...classifier.info, reportedModel: null } : null,
        // Tokens spent on answers that were then refused are still billed: record them.
        usage: spentUsage(e.details),
        error: errorOf(e),
      });
    }

    if (outcome.kind === 'cached') {
      const a = outcome.entry.answer;
      if (a === null) throw new Error('unreachable: a cache hit without an answer');
      return await finish({
        status: decideStatus(a, profile),
        profile: profileRef,
        result: a.result,
        labels: flattenLabels(a.result),
        confidence: a.confidence,
        confidenceSource: a.confidenceSource,
        model: a.model,
        usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, modelCalls: 0 },
        image: a.image as ImageDocument['image'],
        cached: { documentId: outcome.entry.sourceDocumentId, at: outcome.entry.updatedAt },
      });
    }
    const res = outcome.r;
    return await finish({
      status: res.status,
      profile: profileRef,
      ...classificationFields(res.classification),
      timings: { downloadMs, ...res.timings, totalMs: 0 },
      image: imageFacts(res),
      cached: null,
    });
  } catch (e) {
    // Transient (or unexpected): nothing final is written. Free the claim at once so the redelivery can take it,
    // and keep the fault for the reconcile sweep, which finalises what is still failing after the retry horizon.
    const code = isTransientError(e) ? e.code : 'internal';
    await settleEarlyMark();
    await claim
      .release({ modelAttempts: paid }, { code, message: e instanceof Error ? e.message : String(e), at: now().toISOString() }, now())
      .catch((err: unknown) => log.warn('could not release the claim', { id, error: err instanceof Error ? err.message : String(err) }));
    if (r.budget.aborted && !isTransientError(e)) throw new TransientError('model_timeout', `Gave up within the ${r.budgetMs} ms budget; Event Grid will redeliver.`, { cause: e });
    throw e;
  }
}

function imageFacts(res: ClassifyBytesResult): NonNullable<ImageDocument['image']> {
  const o = res.image.original;
  return { width: o.width, height: o.height, format: o.format, sha256: o.sha256 };
}

/** The code a version ends with at the cap: the last model fault recorded, else a timeout (the usual reason). */
function capCode(last: ImageDocument['lastError']): ErrorCode {
  const code = last?.code;
  return code === 'model_throttled' || code === 'model_unavailable' || code === 'model_timeout' ? code : 'model_timeout';
}

function inFlight(eTag: string | null): TransientError {
  return new TransientError('in_flight', `Blob version ${eTag ?? ''} is being processed by another worker; retry later.`, { retryAfterMs: 10_000 });
}

function spentUsage(details: Record<string, unknown> | undefined): ImageDocument['usage'] {
  const u = details?.['usage'] as Partial<Record<'promptTokens' | 'completionTokens' | 'costUsd', number | null>> | undefined;
  const calls = typeof details?.['calls'] === 'number' ? details['calls'] : 0;
  return { promptTokens: u?.promptTokens ?? 0, completionTokens: u?.completionTokens ?? 0, costUsd: u?.costUsd ?? 0, modelCalls: calls };
}

function errorOf(e: PermanentError): NonNullable<ImageDocument['error']> {
  return e.details === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, details: e.details };
}

function ignore(log: Logger, event: BlobEvent, reason: string): BlobOutcome {
  log.info('ignoring event', { eventId: event.id, subject: `${event.container}/${event.blobName}`, reason });
  return { outcome: 'ignored', reason };
}
