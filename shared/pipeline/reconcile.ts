/** The safety net: finds images that fell through Event Grid and finishes them, a bounded amount per run. */
import { randomUUID } from 'node:crypto';

import type { ContainerClient } from '@azure/storage-blob';

import { isTransientError } from '../errors';
import { BLOB_CREATED, parseBlobEvent } from '../events';
import { silentLogger } from '../logging';
import type { ImageDocument } from '../store';
import { documentId } from '../store';
import { requireETag } from './ClaimHandle';
import type { PipelineDeps } from './processBlobCreated';
import { processBlobCreated } from './processBlobCreated';

export interface ReconcileOptions {
  /** Where Event Grid dead-letters events it gave up on. */
  deadLetter: ContainerClient;
  /** A `processing` document untouched this long has lost its event (or its worker): redo it. */
  staleAfterMs: number;
  /** After this long since its first attempt, a version still failing transiently ends `failed` with the last error. */
  retryHorizonMs: number;
  /** At most this many images are processed per run (each may call the model). */
  maxItems: number;
  /** At most this many blobs are looked at per run when searching for blobs without a document. */
  maxScan: number;
}

export interface ReconcileReport {
  deadLettered: number;
  orphans: number;
  stale: number;
  finalisedFailed: number;
  stillFailing: number;
  scanned: number;
}

// Where the orphan scan resumes, per container and per instance, so a large container is covered over several runs.
const scanMarkers = new Map<string, string>();

export async function reconcile(deps: PipelineDeps, o: ReconcileOptions): Promise<ReconcileReport> {
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? ((): Date => new Date());
  const report: ReconcileReport = { deadLettered: 0, orphans: 0, stale: 0, finalisedFailed: 0, stillFailing: 0, scanned: 0 };
  let budget = o.maxItems;

  const redo = async (blobName: string, kind: 'deadLettered' | 'orphans' | 'stale', event?: unknown): Promise<boolean> => {
    budget--;
    try {
      const out = await processBlobCreated(event ?? (await syntheticEvent(deps.images, blobName)), deps);
      if (out.outcome !== 'ignored') report[kind]++;
      return true;
    } catch (e) {
      if (!isTransientError(e)) throw e;
      report.stillFailing++;
      log.warn('reconcile: still failing', { blobName, code: e.code });
      return false;
    }
  };

  // 1. Dead-lettered events: process them again; the dead-letter blob goes once its events are settled.
  if (await o.deadLetter.exists()) {
    for await (const b of o.deadLetter.listBlobsFlat()) {
      if (budget <= 0) break;
      if (!b.name.endsWith('.json')) continue;
      const blob = o.deadLetter.getBlobClient(b.name);
      let events: unknown[];
      try {
        const parsed: unknown = JSON.parse((await blob.downloadToBuffer()).toString('utf8'));
        events = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        log.error('reconcile: unreadable dead-letter blob left in place', { name: b.name });
        continue;
      }
      let settled = true;
      for (const ev of events) {
        const name = blobNameOf(ev, deps.images.containerName);
        if (name === undefined) continue;
        if (!(await redo(name, 'deadLettered', ev))) settled = false;
      }
      if (settled) await blob.deleteIfExists();
    }
  }

  // 2. Claims whose lease ran out and that nobody retried: redo, or finalise after the retry horizon.
  for (let token: string | undefined; budget > 0; ) {
    const page = await deps.store.list({ status: 'processing', limit: 50, ...(token === undefined ? {} : { continuationToken: token }) });
    for (const doc of page.items) {
      if (budget <= 0) break;
      const t = now().getTime();
      if (doc.lease !== null && doc.lease !== undefined && Date.parse(doc.lease.expiresAt) > t) continue;
      if (t - Date.parse(doc.updatedAt) < o.staleAfterMs) continue;
      if (t - Date.parse(doc.firstAttemptAt ?? doc.createdAt) > o.retryHorizonMs) {
        await finaliseFailed(deps, doc, now());
        report.finalisedFailed++;
        continue;
      }
      await redo(doc.blob.name, 'stale');
    }
    if (page.continuationToken === null) break;
    token = page.continuationToken;
  }

  // 3. Blobs with no document at all (their event never arrived, or was malformed).
  let scanned = 0;
  let scanMarker = scanMarkers.get(deps.images.url);
  const pages = deps.images.listBlobsFlat().byPage({ maxPageSize: 200, ...(scanMarker === undefined ? {} : { continuationToken: scanMarker }) });
  for await (const page of pages) {
    for (const b of page.segment.blobItems) {
      scanned++;
      if (budget <= 0) break;
      const doc = await deps.store.get(documentId(deps.images.containerName, b.name));
      const created = b.properties.createdOn?.getTime() ?? 0;
      // Give Event Grid its chance first: only blobs older than the stale threshold count as lost.
      if (doc === undefined && now().getTime() - created > o.staleAfterMs) await redo(b.name, 'orphans');
    }
    scanMarker = page.continuationToken === '' ? undefined : page.continuationToken;
    if (scanMarker === undefined) scanMarkers.delete(deps.images.url);
    else scanMarkers.set(deps.images.url, scanMarker);
    if (scanned >= o.maxScan || budget <= 0 || scanMarker === undefined) break;
  }
  report.scanned = scanned;
  log.info('reconcile finished', { ...report });
  return report;
}

/** The retry horizon passed with the version still failing transiently: record that, with the last error. */
async function finaliseFailed(deps: PipelineDeps, doc: ImageDocument, now: Date): Promise<void> {
  const last = doc.lastError ?? { code: 'unknown', message: 'no error was recorded', at: doc.updatedAt };
  const next: ImageDocument = {
    ...doc,
    status: 'failed',
    lease: null,
    error: { code: last.code, message: `Still failing after the retry horizon: ${last.message}`, details: { attempts: doc.attempts ?? 0, firstAttemptAt: doc.firstAttemptAt ?? null, lastErrorAt: last.at } },
    updatedAt: now.toISOString(),
  };
  // Conditional: a worker that took the version over meanwhile wins (its write is newer than this verdict).
  await deps.store.replace(next, requireETag(doc));
}

/** A BlobCreated event for the blob as it is now, for images whose own event is gone. */
async function syntheticEvent(images: ContainerClient, blobName: string): Promise<unknown> {
  const blob = images.getBlobClient(blobName);
  const p = await blob.getProperties().catch(() => undefined);
  return {
    id: `reconcile-${randomUUID()}`,
    subject: `/blobServices/default/containers/${images.containerName}/blobs/${blobName}`,
    eventType: BLOB_CREATED,
    eventTime: new Date().toISOString(),
    data: {
      api: 'PutBlob',
      ...(p?.etag === undefined ? {} : { eTag: p.etag }),
      ...(p?.contentLength === undefined ? {} : { contentLength: p.contentLength }),
      ...(p?.contentType === undefined ? {} : { contentType: p.contentType }),
      url: blob.url,
    },
    dataVersion: '',
    metadataVersion: '1',
  };
}

function blobNameOf(ev: unknown, container: string): string | undefined {
  const parsed = parseBlobEvent(ev);
  return parsed.kind === 'ok' && parsed.event.container === container ? parsed.event.blobName : undefined;
}
