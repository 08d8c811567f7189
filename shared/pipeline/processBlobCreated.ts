/** The one function the flow runs for a blob event: parse, claim, download, preprocess, classify (or reuse), store. */
import { createHash, randomUUID } from 'node:crypto';

import type { ContainerClient } from '@azure/storage-blob';

import { downloadBlob } from '../blob';
import type { ErrorCode , PermanentError} from '../errors';
import { isPermanentError, isTransientError, TransientError } from '../errors';
import type { BlobEvent } from '../events';
import { BLOB_CREATED, BLOB_DELETED, COMPLETED_WRITE_APIS, parseBlobEvent } from '../events';
import type { Logger } from '../logging';
import { silentLogger } from '../logging';
import type { Classifier } from '../model/classifier';
import type { ProfileRegistry, ResolvedProfile } from '../profiles';
import { resolveProfile } from '../profiles';
import type { CacheEntry, ImageDocument, ImageStore, ResultCache } from '../store';
import { documentId } from '../store';
import type { ClaimResult } from './claimImage';
import { claimImage, isOlderSequencer, settledBy } from './claimImage';
import { classifyBytes, round } from './classifyBytes';
import { classificationFields, decideStatus, flattenLabels } from './decideStatus';

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
  log?: Logger;
  now?: () => Date;
  /** Identifies this invocation in leases; random per call by default (two deliveries in one process are two claimants). */
  owner?: string;
}

export type BlobOutcome =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'duplicate'; document: ImageDocument }
  | { outcome: 'superseded'; reason: string }
  | { outcome: 'deleted'; document: ImageDocument }
  | { outcome: 'classified' | 'needs_review' | 'rejected' | 'failed'; document: ImageDocument };

export const DEFAULT_BUDGET_MS = 25_000;
export const DEFAULT_LEASE_MS = 60_000;

/** Codes after which the image itself was fine but no answer could be had: `failed`, not `rejected`. */
const FAILED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['model_invalid_output', 'model_bad_request', 'model_not_configured']);

/**
 * Processes one Event Grid / CloudEvents blob event. Returns what happened; throws TransientError (or any unexpected
 * error) when the event must be delivered again, so Event Grid's retry schedule and dead-lettering apply. Never writes
 * a final state for a transient fault.
 */
export async function processBlobCreated(input: unknown, deps: PipelineDeps, signal?: AbortSignal): Promise<BlobOutcome> {
  const log = deps.log ?? silentLogger;
  const parsed = parseBlobEvent(input);
  if (parsed.kind === 'malformed') {
    // Redelivering cannot fix a malformed event, and it names no blob we could record; the reconcile sweep
    // (blobs without a document) is what catches an image whose event was lost this way.
    log.error('ignoring malformed event', { reason: parsed.reason });
    return { outcome: 'ignored', reason: parsed.reason };
  }
  const event = parsed.event;
  if (event.container !== deps.images.containerName) return ignore(log, event, `container ${event.container} is not the images container ${deps.images.containerName}`);
  if (event.type === BLOB_DELETED) return markDeleted(event, deps, log);
  if (event.type !== BLOB_CREATED) return ignore(log, event, `event type ${event.type} is not handled`);
  if (event.api !== null && !COMPLETED_WRITE_APIS.includes(event.api)) return ignore(log, event, `api ${event.api} is not a completed write`);

  const started = performance.now();
  const now = deps.now ?? ((): Date => new Date());
  const owner = deps.owner ?? `claim-${randomUUID()}`;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const budget = AbortSignal.timeout(deps.budgetMs ?? DEFAULT_BUDGET_MS);
  const deadline = signal === undefined ? budget : AbortSignal.any([signal, budget]);
  const id = documentId(event.container, event.blobName);
  const fresh = emptyDocument(id, event, deps.images, now());

  // Cheap checks before any download: a finished version, a late event, or a live claim by another worker.
  const early = await precheck(deps.store, id, event, owner, now(), log);
  if (early !== undefined) return early;

  // Download the exact version first: an event for an overwritten version must not touch the document at all.
  const tDownload = performance.now();
  const download = await downloadBlob(deps.images, event.blobName, {
    maxBytes: deps.limits.maxBytes,
    signal: deadline,
    ...(event.eTag === null ? {} : { eTag: event.eTag }),
  });
  const downloadMs = round(performance.now() - tDownload);
  if (download.kind === 'superseded') {
    // A newer write replaced this version; its own BlobCreated event will be processed.
    log.info('blob was overwritten after this event; skipping the old version', { id, eTag: event.eTag });
    return { outcome: 'superseded', reason: 'the blob was overwritten by a newer version' };
  }

  const claim = await claimImage(deps.store, fresh, event, owner, leaseMs, now);
  const decided = outcomeOfClaim(claim, event, log);
  if (decided !== undefined) return decided;
  if (claim.kind !== 'claimed') throw new Error('unreachable: claim outcome not handled');
  let held = claim.doc;

  /** Writes the final document if we still hold the claim; someone who took it over wins. */
  const finish = async (over: Partial<ImageDocument>, downloadMs: number | null): Promise<BlobOutcome> => {
    const doc: ImageDocument = { ...held, ...over, lease: null, lastError: null, updatedAt: now().toISOString() };
    doc.timings = { ...doc.timings, downloadMs, totalMs: round(performance.now() - started) };
    const stored = held._etag === undefined ? await deps.store.upsert(doc) : await deps.store.replace(doc, held._etag);
    if (stored === 'conflict') {
      log.warn('lost the claim before the final write (lease expired or newer version); dropping this result', { id });
      return { outcome: 'superseded', reason: 'another worker took the claim over' };
    }
    log.info('image processed', { id, blob: event.blobName, status: stored.status, code: stored.error?.code, cached: stored.cached !== null && stored.cached !== undefined });
    return { outcome: stored.status as 'classified' | 'needs_review' | 'rejected' | 'failed', document: stored };
  };

  try {
    switch (download.kind) {
      case 'not-found':
        return await finish({ status: 'rejected', error: { code: 'blob_not_found', message: 'The blob was deleted before it could be processed.' } }, downloadMs);
      case 'too-large':
        return await finish(
          {
            status: 'rejected',
            blob: { ...held.blob, contentLength: download.contentLength },
            error: {
              code: 'too_large',
              message: `The blob is ${download.contentLength} bytes; the limit is ${deps.limits.maxBytes} bytes (MAX_IMAGE_BYTES).`,
              details: { contentLength: download.contentLength, maxBytes: deps.limits.maxBytes },
            },
          },
          downloadMs,
        );
      case 'ok':
        break;
    }
    held = { ...held, blob: { ...held.blob, url: download.url, eTag: download.eTag, contentLength: download.contentLength, contentType: download.contentType } };

    let resolved: ResolvedProfile;
    try {
      resolved = resolveProfile(event.blobName, download.metadata, deps.profiles, deps.defaultProfile);
    } catch (e) {
      if (!isPermanentError(e)) throw e;
      return await finish({ status: 'rejected', error: errorOf(e) }, downloadMs);
    }
    const profile = resolved.profile;
    held = { ...held, profile: { name: profile.name, version: profile.version } };

    // Pay once per content: the same bytes for the same profile version and model reuse the stored answer.
    let cacheClaim: CacheEntry | undefined;
    if (deps.cache !== undefined && deps.classifier.supportedKinds.includes(profile.kind)) {
      const sha256 = createHash('sha256').update(download.bytes).digest('hex');
      const c = await deps.cache.claim({ sha256, profile: profile.name, profileVersion: profile.version, provider: deps.classifier.info.provider, deployment: deps.classifier.info.deployment }, owner, leaseMs, now());
      if (c.kind === 'hit' && c.entry.answer !== null) {
        const a = c.entry.answer;
        return await finish(
          {
            status: decideStatus(a, profile),
            result: a.result,
            labels: flattenLabels(a.result),
            confidence: a.confidence,
            confidenceSource: a.confidenceSource,
            model: a.model,
            usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, modelCalls: 0 },
            image: a.image as ImageDocument['image'],
            cached: { documentId: c.entry.sourceDocumentId, at: c.entry.updatedAt },
          },
          downloadMs,
        );
      }
      if (c.kind === 'busy') {
        throw new TransientError('in_flight', 'An image with identical bytes is being classified right now; its answer will be reused on retry.', { retryAfterMs: 10_000 });
      }
      if (c.kind === 'claimed') cacheClaim = c.entry;
    }

    try {
      const r = await classifyBytes(download.bytes, profile, { classifier: deps.classifier, limits: deps.limits }, deadline);
      const c = r.classification;
      const image = { width: r.image.original.width, height: r.image.original.height, format: r.image.original.format, sha256: r.image.original.sha256 };
      if (cacheClaim !== undefined) {
        await deps.cache
          ?.fulfil(cacheClaim, { result: c.result, confidence: c.confidence, confidenceSource: c.confidenceSource, usage: c.usage, model: c.model, image }, id, now())
          .catch((e: unknown) => log.warn('could not store the answer in the content cache', { id, error: e instanceof Error ? e.message : String(e) }));
        cacheClaim = undefined;
      }
      return await finish(
        {
          status: r.status,
          ...classificationFields(c),
          timings: { downloadMs, ...r.timings, totalMs: 0 },
          image,
          cached: null,
        },
        downloadMs,
      );
    } catch (e) {
      if (cacheClaim !== undefined) await deps.cache?.release(cacheClaim).catch(() => undefined);
      if (!isPermanentError(e)) throw e;
      const status = FAILED_CODES.has(e.code) ? 'failed' : 'rejected';
      return await finish(
        {
          status,
          model: status === 'failed' || e.code === 'content_filtered' ? { ...deps.classifier.info, reportedModel: null } : null,
          // Tokens spent on answers that were then refused are still billed: record them.
          usage: spentUsage(e.details),
          error: errorOf(e),
        },
        downloadMs,
      );
    }
  } catch (e) {
    // Transient (or unexpected): nothing final is written. Free the claim at once so the redelivery can take it,
    // and keep the fault for the reconcile sweep, which finalises what is still failing after the retry horizon.
    const code = isTransientError(e) ? e.code : 'internal';
    await release(deps.store, held, now(), { code, message: e instanceof Error ? e.message : String(e), at: now().toISOString() }).catch((err: unknown) =>
      log.warn('could not release the claim', { id, error: err instanceof Error ? err.message : String(err) }),
    );
    if (budget.aborted && !isTransientError(e)) throw new TransientError('model_timeout', `Gave up within the ${deps.budgetMs ?? DEFAULT_BUDGET_MS} ms budget; Event Grid will redeliver.`, { cause: e });
    throw e;
  }
}

/** Returns the outcome when the stored document already settles this event (or throws to have it retried later). */
async function precheck(store: ImageStore, id: string, event: BlobEvent, owner: string, now: Date, log: Logger): Promise<BlobOutcome | undefined> {
  const existing = await store.get(id);
  if (existing === undefined) return undefined;
  const settled = settledBy(existing, event, owner, now);
  return settled === undefined ? undefined : outcomeOfClaim({ kind: settled, doc: existing }, event, log);
}

function outcomeOfClaim(claim: ClaimResult, event: BlobEvent, log: Logger): BlobOutcome | undefined {
  switch (claim.kind) {
    case 'duplicate':
      log.info('duplicate delivery: this blob version already has a final document', { id: claim.doc.id, eTag: event.eTag, status: claim.doc.status });
      return { outcome: 'duplicate', document: claim.doc };
    case 'stale':
      log.info('event for an older version than the one stored; ignoring', { id: claim.doc.id, eventSequencer: event.sequencer, storedSequencer: claim.doc.blob.sequencer });
      return { outcome: 'superseded', reason: 'a newer version of the blob is already recorded' };
    case 'in-flight':
      // Ask for redelivery rather than acknowledge: if that worker dies, the retry finds its lease expired and takes over.
      throw inFlight(event);
    case 'claimed':
      return undefined;
  }
}

function inFlight(event: BlobEvent): TransientError {
  return new TransientError('in_flight', `Blob version ${event.eTag ?? ''} is being processed by another worker; retry later.`, { retryAfterMs: 10_000 });
}

/** A processing document for this event's blob version, with no result yet. */
function emptyDocument(id: string, event: BlobEvent, images: ContainerClient, now: Date): ImageDocument {
  return {
    id,
    type: 'image',
    blob: {
      container: event.container,
      name: event.blobName,
      url: event.url ?? `${images.url}/${event.blobName}`,
      eTag: event.eTag ?? '',
      contentLength: event.contentLength ?? 0,
      contentType: event.contentType,
      sequencer: event.sequencer,
    },
    profile: null,
    status: 'processing',
    result: null,
    labels: [],
    confidence: null,
    confidenceSource: null,
    model: null,
    usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, modelCalls: 0 },
    timings: { downloadMs: null, preprocessMs: null, modelMs: null, totalMs: 0 },
    image: null,
    error: null,
    source: { eventId: event.id, eventTime: event.time },
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

/** Ends our lease now (keeping the document `processing`), recording the fault if there was one. */
async function release(store: ImageStore, held: ImageDocument, now: Date, lastError: ImageDocument['lastError']): Promise<void> {
  if (held._etag === undefined || held.lease === null || held.lease === undefined) return;
  await store.replace({ ...held, lease: { ...held.lease, expiresAt: now.toISOString() }, lastError: lastError ?? held.lastError ?? null, updatedAt: now.toISOString() }, held._etag);
}

/** BlobDeleted: the document stays, marked `deleted`, unless the delete is older than the version stored. */
async function markDeleted(event: BlobEvent, deps: PipelineDeps, log: Logger): Promise<BlobOutcome> {
  const id = documentId(event.container, event.blobName);
  for (let attempt = 1; attempt <= 5; attempt++) {
    const doc = await deps.store.get(id);
    if (doc === undefined) return ignore(log, event, 'no document for the deleted blob');
    if (doc.status === 'deleted') return { outcome: 'deleted', document: doc };
    if (isOlderSequencer(event.sequencer, doc.blob.sequencer)) return ignore(log, event, 'the delete is older than the stored version (the blob was written again)');
    const at = (deps.now?.() ?? new Date()).toISOString();
    const next: ImageDocument = { ...doc, status: 'deleted', lease: null, updatedAt: at, blob: { ...doc.blob, sequencer: event.sequencer ?? doc.blob.sequencer } };
    const stored = doc._etag === undefined ? await deps.store.upsert(next) : await deps.store.replace(next, doc._etag);
    if (stored !== 'conflict') {
      log.info('blob deleted: document marked deleted', { id });
      return { outcome: 'deleted', document: stored };
    }
  }
  throw new TransientError('in_flight', `Document ${id} kept changing while marking it deleted; retry later.`);
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
