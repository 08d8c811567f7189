/** The one function the flow runs for a blob event: parse, dedupe, download, preprocess, classify, store. */
import type { ContainerClient } from '@azure/storage-blob';

import { downloadBlob } from '../blob';
import type { ErrorCode , PermanentError } from '../errors';
import { isPermanentError } from '../errors';
import type { BlobEvent } from '../events';
import { BLOB_CREATED, COMPLETED_WRITE_APIS, parseBlobEvent } from '../events';
import type { Logger } from '../logging';
import { silentLogger } from '../logging';
import type { Classifier } from '../model/classifier';
import type { ProfileRegistry, ResolvedProfile } from '../profiles';
import { resolveProfile } from '../profiles';
import type { ImageDocument, ImageStore } from '../store';
import { documentId, FINAL_STATUSES } from '../store';
import { classifyBytes, round } from './classifyBytes';
import { flattenLabels } from './decideStatus';

export interface PipelineDeps {
  /** The container named by IMAGES_CONTAINER; events for any other container are ignored. */
  images: ContainerClient;
  store: ImageStore;
  classifier: Classifier;
  profiles: ProfileRegistry;
  defaultProfile: string;
  limits: { maxBytes: number; maxPixels: number };
  log?: Logger;
  now?: () => Date;
}

export type BlobOutcome =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'duplicate'; document: ImageDocument }
  | { outcome: 'superseded'; reason: string }
  | { outcome: 'classified' | 'needs_review' | 'rejected' | 'failed'; document: ImageDocument };

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
  if (event.type !== BLOB_CREATED) return ignore(log, event, `event type ${event.type} is not handled`);
  if (event.container !== deps.images.containerName) return ignore(log, event, `container ${event.container} is not the images container ${deps.images.containerName}`);
  if (event.api !== null && !COMPLETED_WRITE_APIS.includes(event.api)) return ignore(log, event, `api ${event.api} is not a completed write`);

  const started = performance.now();
  const id = documentId(event.container, event.blobName);
  const existing = await deps.store.get(id);
  if (existing !== undefined && event.eTag !== null && existing.blob.eTag === event.eTag && FINAL_STATUSES.includes(existing.status)) {
    log.info('duplicate delivery: this blob version already has a final document', { id, eTag: event.eTag, status: existing.status });
    return { outcome: 'duplicate', document: existing };
  }

  const now = (): string => (deps.now?.() ?? new Date()).toISOString();
  const base = (over: Partial<ImageDocument>): ImageDocument => ({
    id,
    type: 'image',
    blob: {
      container: event.container,
      name: event.blobName,
      url: event.url ?? `${deps.images.url}/${event.blobName}`,
      eTag: event.eTag ?? '',
      contentLength: event.contentLength ?? 0,
      contentType: event.contentType,
      sequencer: event.sequencer,
    },
    profile: null,
    status: 'rejected',
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
    createdAt: existing?.createdAt ?? now(),
    updatedAt: now(),
    ...over,
  });

  const tDownload = performance.now();
  const download = await downloadBlob(deps.images, event.blobName, {
    maxBytes: deps.limits.maxBytes,
    ...(event.eTag === null ? {} : { eTag: event.eTag }),
    ...(signal === undefined ? {} : { signal }),
  });
  const downloadMs = round(performance.now() - tDownload);
  const finish = async (doc: ImageDocument): Promise<BlobOutcome> => {
    doc.timings.totalMs = round(performance.now() - started);
    const stored = await deps.store.upsert(doc);
    log.info('image processed', { id, blob: event.blobName, status: stored.status, code: stored.error?.code });
    return { outcome: stored.status as 'classified' | 'needs_review' | 'rejected' | 'failed', document: stored };
  };

  switch (download.kind) {
    case 'superseded':
      // A newer write replaced this version; its own BlobCreated event will be processed.
      log.info('blob was overwritten after this event; skipping the old version', { id, eTag: event.eTag });
      return { outcome: 'superseded', reason: 'the blob was overwritten by a newer version' };
    case 'not-found':
      return finish(
        base({
          status: 'rejected',
          timings: { downloadMs, preprocessMs: null, modelMs: null, totalMs: 0 },
          error: { code: 'blob_not_found', message: 'The blob was deleted before it could be processed.' },
        }),
      );
    case 'too-large':
      return finish(
        base({
          status: 'rejected',
          blob: { ...base({}).blob, contentLength: download.contentLength },
          timings: { downloadMs, preprocessMs: null, modelMs: null, totalMs: 0 },
          error: {
            code: 'too_large',
            message: `The blob is ${download.contentLength} bytes; the limit is ${deps.limits.maxBytes} bytes (MAX_IMAGE_BYTES).`,
            details: { contentLength: download.contentLength, maxBytes: deps.limits.maxBytes },
          },
        }),
      );
    case 'ok':
      break;
  }

  const blob = { ...base({}).blob, url: download.url, eTag: download.eTag, contentLength: download.contentLength, contentType: download.contentType };
  let resolved: ResolvedProfile;
  try {
    resolved = resolveProfile(event.blobName, download.metadata, deps.profiles, deps.defaultProfile);
  } catch (e) {
    if (!isPermanentError(e)) throw e;
    return finish(base({ blob, status: 'rejected', timings: { downloadMs, preprocessMs: null, modelMs: null, totalMs: 0 }, error: errorOf(e) }));
  }
  const profile = { name: resolved.profile.name, version: resolved.profile.version };

  try {
    const r = await classifyBytes(download.bytes, resolved.profile, { classifier: deps.classifier, limits: deps.limits }, signal);
    const c = r.classification;
    return await finish(
      base({
        blob,
        profile,
        status: r.status,
        result: c.result,
        labels: flattenLabels(c.result),
        confidence: c.confidence,
        confidenceSource: c.confidenceSource,
        model: c.model,
        usage: { ...c.usage, modelCalls: c.calls },
        timings: { downloadMs, ...r.timings, totalMs: 0 },
        image: { width: r.image.original.width, height: r.image.original.height, format: r.image.original.format, sha256: r.image.original.sha256 },
      }),
    );
  } catch (e) {
    if (!isPermanentError(e)) throw e; // transient or unexpected: Event Grid redelivers
    const status = FAILED_CODES.has(e.code) ? 'failed' : 'rejected';
    return finish(
      base({
        blob,
        profile,
        status,
        model: status === 'failed' || e.code === 'content_filtered' ? { ...deps.classifier.info, reportedModel: null } : null,
        // Tokens spent on answers that were then refused are still billed: record them.
        usage: spentUsage(e.details),
        timings: { downloadMs, preprocessMs: null, modelMs: null, totalMs: 0 },
        error: errorOf(e),
      }),
    );
  }
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
