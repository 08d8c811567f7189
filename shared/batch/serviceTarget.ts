/**
 * A container backfill stores into the service itself: each blob goes through processBlobCreated, the function the
 * service runs for an Event Grid event, with a classifier that answers from the batch. So the claim, the Cosmos
 * document (one per blob version), the content cache and the counters are the service's own, and a later BlobCreated
 * event for the same content is a duplicate or a cache hit, never a second paid call. Before the batch is built, the
 * service's own decision (decide) says which blobs still need work: a version that is already final, or being
 * processed right now, is not sent.
 */
import { randomUUID } from 'node:crypto';

import type { ContainerClient } from '@azure/storage-blob';

import type { BlobState } from '../blob/readBlobState';
import { readBlobState } from '../blob/readBlobState';
import { isPermanentError, isTransientError } from '../errors';
import { BLOB_CREATED, parseBlobEvent } from '../events';
import type { Classifier } from '../model';
import type { BlobOutcome, PipelineDeps } from '../pipeline';
import { decide, processBlobCreated } from '../pipeline';
import type { Profile } from '../profiles';
import { resolveProfile } from '../profiles';
import { documentId } from '../store';

export interface ServiceTarget {
  /** The service's pipeline dependencies (pipelineDeps of createServices); `images` is the backfilled container. */
  deps: PipelineDeps;
}

export interface ServicePlan {
  /** Blob names to answer in this backfill, with the version (eTag) seen when planning. */
  work: Map<string, string>;
  /** Blobs left out, and why (final already, another profile, being processed, gone). */
  skipped: { name: string; reason: string }[];
  /** Of the skipped: versions already final in the service. */
  final: number;
}

export interface ServiceStoreResult {
  counts: { classified: number; needsReview: number; rejected: number; failed: number; duplicate: number; superseded: number; notStored: number };
  /** Blobs without a final document after this backfill (a transient fault, or no answer without --online-retry). */
  notStored: { name: string; code: string; message: string }[];
  outcomes: { name: string; outcome: BlobOutcome['outcome'] }[];
}

/** Lost races with another claimant of identical bytes (`in_flight`) before a blob is reported as not stored. */
const MAX_TRIES = 20;

/** Which blobs need an answer, decided exactly as the service decides an event for the blob as it is now. */
export async function planService(names: readonly string[], target: ServiceTarget, profile: Profile, now: () => Date = () => new Date()): Promise<ServicePlan> {
  const { deps } = target;
  const work = new Map<string, string>();
  const skipped: ServicePlan['skipped'] = [];
  let final = 0;
  for (const name of names) {
    const [stored, state] = await Promise.all([deps.store.get(documentId(deps.images.containerName, name)), readBlobState(deps.images, name)]);
    if (!state.exists) {
      skipped.push({ name, reason: 'the blob is gone' });
      continue;
    }
    const parsed = parseBlobEvent(eventFor(deps.images, name, state));
    if (parsed.kind !== 'ok') {
      skipped.push({ name, reason: `the service refuses this blob: ${parsed.reason}` });
      continue;
    }
    const d = decide(parsed.event, stored, state, now());
    if (d.action === 'duplicate') {
      final++;
      skipped.push({ name, reason: `already final in the service (${stored?.status ?? '?'})` });
      continue;
    }
    if (d.action === 'in-flight') {
      skipped.push({ name, reason: 'being processed by the service right now' });
      continue;
    }
    if (d.action !== 'claim') {
      skipped.push({ name, reason: d.action === 'ignore' || d.action === 'superseded' ? d.reason : d.action });
      continue;
    }
    let resolved: Profile;
    try {
      resolved = resolveProfile(name, state.metadata, deps.profiles, deps.defaultProfile).profile;
    } catch (e) {
      if (!isPermanentError(e)) throw e;
      skipped.push({ name, reason: e.message });
      continue;
    }
    // The service labels a blob with the profile its path, metadata or DEFAULT_PROFILE names: answering it with
    // another would store what no event of the service would have stored.
    if (resolved.name !== profile.name || resolved.version !== profile.version) {
      skipped.push({ name, reason: `the service labels it with profile ${resolved.name} ${resolved.version}: backfill it with --profile ${resolved.name}` });
      continue;
    }
    work.set(name, state.eTag);
  }
  return { work, skipped, final };
}

/**
 * Runs the service's event function for each planned blob, `concurrency` at once, with `classifier` (the batch's
 * answers, and the online deployment for what the batch did not answer). A transient failure leaves the blob without
 * a final document, as an Event Grid delivery would: it is reported, and the next backfill (or the reconcile sweep)
 * picks it up.
 */
export async function storeInService(plan: ServicePlan, target: ServiceTarget, classifier: Classifier, concurrency: number, abort: AbortSignal): Promise<ServiceStoreResult> {
  const deps: PipelineDeps = { ...target.deps, classifier };
  const result: ServiceStoreResult = { counts: { classified: 0, needsReview: 0, rejected: 0, failed: 0, duplicate: 0, superseded: 0, notStored: 0 }, notStored: [], outcomes: [] };
  const queue = [...plan.work.entries()];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined && !abort.aborted; next = queue.shift()) {
      const [name, eTag] = next;
      try {
        const out = await deliver(deps, name, eTag, abort);
        result.outcomes.push({ name, outcome: out.outcome });
        if (out.outcome === 'classified') result.counts.classified++;
        else if (out.outcome === 'needs_review') result.counts.needsReview++;
        else if (out.outcome === 'rejected') result.counts.rejected++;
        else if (out.outcome === 'failed') result.counts.failed++;
        else if (out.outcome === 'duplicate') result.counts.duplicate++;
        else result.counts.superseded++;
      } catch (e) {
        result.counts.notStored++;
        result.notStored.push({ name, code: isTransientError(e) ? e.code : 'internal', message: e instanceof Error ? e.message : String(e) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  for (const [name] of queue) result.notStored.push({ name, code: 'interrupted', message: 'stopped before this blob was stored' });
  result.counts.notStored = result.notStored.length;
  return result;
}

/** One delivery, redelivered (bounded) while identical bytes of another blob are being classified by this backfill. */
async function deliver(deps: PipelineDeps, name: string, eTag: string, abort: AbortSignal): Promise<BlobOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await processBlobCreated(eventFor(deps.images, name, { eTag }), deps, abort);
    } catch (e) {
      if (!isTransientError(e) || e.code !== 'in_flight' || attempt >= MAX_TRIES || abort.aborted) throw e;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

/** A BlobCreated event for the version seen when planning (the same minimal shape the reconcile sweep sends). */
function eventFor(images: ContainerClient, name: string, state: Pick<Extract<BlobState, { exists: true }>, 'eTag'> & Partial<Extract<BlobState, { exists: true }>>): unknown {
  return {
    id: `backfill-${randomUUID()}`,
    subject: `/blobServices/default/containers/${images.containerName}/blobs/${name}`,
    eventType: BLOB_CREATED,
    eventTime: new Date().toISOString(),
    data: {
      api: 'PutBlob',
      eTag: state.eTag,
      ...(state.contentLength === undefined ? {} : { contentLength: state.contentLength }),
      ...(state.contentType === undefined || state.contentType === null ? {} : { contentType: state.contentType }),
      url: images.getBlobClient(name).url,
    },
    dataVersion: '',
    metadataVersion: '1',
  };
}
