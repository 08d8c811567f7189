/** The safety net: finds images that fell through Event Grid and finishes them, a bounded amount per run. */
import { randomUUID } from 'node:crypto';

import type { BlobItem, ContainerClient } from '@azure/storage-blob';

import { isTransientError } from '../errors';
import { BLOB_CREATED, parseBlobEvent } from '../events';
import type { Logger } from '../logging';
import { silentLogger } from '../logging';
import type { ImageDocument, StoredVersion } from '../store';
import { documentId, MAX_VERSION_LOOKUP } from '../store';
import { recordImageOutcome } from '../telemetry';
import { requireETag } from './ClaimHandle';
import type { BlobOutcome, PipelineDeps } from './processBlobCreated';
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
  /** Runs a dead-letter blob may keep failing before it is moved aside under `poison/`. */
  maxDeadLetterAttempts?: number;
}

/** One item that failed in this run: recorded and skipped, the run goes on. */
export interface ReconcileFailure {
  step: 'deadLetter' | 'stale' | 'scan';
  /** The blob (or dead-letter blob) concerned; for a whole step that failed, the container. */
  item: string;
  transient: boolean;
  code: string;
  message: string;
}

export interface ReconcileReport {
  deadLettered: number;
  orphans: number;
  /** Blobs whose document describes an older version (the event of the newest write was lost): redone. */
  outdated: number;
  stale: number;
  finalisedFailed: number;
  /** Items that failed transiently; they are tried again next run. */
  stillFailing: number;
  /** Items that failed with any other error; recorded and skipped. */
  errored: number;
  /** Dead-letter blobs moved under `poison/` (unreadable, failing for good, or failing for too many runs). */
  movedAside: number;
  scanned: number;
  /** Where the orphan scan stands: pass number, and whether this run reached the end of the container. */
  scan: { pass: number; wrapped: boolean; cursorConflict: boolean };
  /** The first MAX_RECORDED_FAILURES failures of this run, for the log and the caller. */
  failures: ReconcileFailure[];
}

/** Dead-letter blobs moved aside go here, in the dead-letter container itself (the app's role covers only that one). */
export const POISON_PREFIX = 'poison/';
export const DEFAULT_DEAD_LETTER_ATTEMPTS = 10;
/** Blobs per listing page, and ids per lookup query: one list call and one query per this many blobs. */
export const SCAN_PAGE_SIZE = MAX_VERSION_LOOKUP;
const STALE_PAGE_SIZE = 50;
const MAX_RECORDED_FAILURES = 20;
/** Event Grid events are at most 1 MB; anything much larger in the dead-letter container is not a dead letter. */
const MAX_DEAD_LETTER_BYTES = 4 * 1024 * 1024;
const COPY_TIMEOUT_MS = 60_000;

export async function reconcile(deps: PipelineDeps, o: ReconcileOptions): Promise<ReconcileReport> {
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? ((): Date => new Date());
  const report: ReconcileReport = {
    deadLettered: 0,
    orphans: 0,
    outdated: 0,
    stale: 0,
    finalisedFailed: 0,
    stillFailing: 0,
    errored: 0,
    movedAside: 0,
    scanned: 0,
    scan: { pass: 0, wrapped: false, cursorConflict: false },
    failures: [],
  };
  const run: Run = { deps, o, log, now, report, budget: o.maxItems };

  await step(run, 'deadLetter', o.deadLetter.containerName, () => replayDeadLetters(run));
  await step(run, 'stale', deps.images.containerName, () => redoStaleClaims(run));
  await step(run, 'scan', deps.images.containerName, () => scanForOrphans(run));

  log.info('reconcile finished', { ...report, failures: report.failures.length });
  return report;
}

interface Run {
  deps: PipelineDeps;
  o: ReconcileOptions;
  log: Logger;
  now: () => Date;
  report: ReconcileReport;
  /** Images that may still be processed this run. */
  budget: number;
}

type ItemResult = { ok: true } | { ok: false; transient: boolean; code: string; message: string };

/** Runs one step; if the step as a whole fails (listing or query outage), records it and lets the next step run. */
async function step(run: Run, name: ReconcileFailure['step'], item: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    const r = failure(e);
    record(run, name, item, r);
    run.log.error(`reconcile: the ${name} step failed; the other steps ran`, { item, code: r.code, error: r.message });
  }
}

/** Processes one image, isolated: any error is recorded, counted and returned, never thrown. */
async function redo(run: Run, stepName: ReconcileFailure['step'], item: string, kind: 'deadLettered' | 'orphans' | 'outdated' | 'stale', work: () => Promise<BlobOutcome>): Promise<ItemResult> {
  run.budget--;
  try {
    const out = await work();
    if (out.outcome !== 'ignored') run.report[kind]++;
    return { ok: true };
  } catch (e) {
    const r = failure(e);
    if (r.transient) run.report.stillFailing++;
    else run.report.errored++;
    record(run, stepName, item, r);
    if (r.transient) run.log.warn('reconcile: still failing', { step: stepName, item, code: r.code });
    else run.log.error('reconcile: item failed; skipped', { step: stepName, item, code: r.code, error: r.message });
    return r;
  }
}

function failure(e: unknown): Extract<ItemResult, { ok: false }> {
  const transient = isTransientError(e);
  const code = transient ? e.code : typeof (e as { code?: unknown }).code === 'string' ? String((e as { code: string }).code) : e instanceof Error ? e.name : 'unknown';
  return { ok: false, transient, code, message: e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e) };
}

function record(run: Run, stepName: ReconcileFailure['step'], item: string, r: Extract<ItemResult, { ok: false }>): void {
  if (run.report.failures.length < MAX_RECORDED_FAILURES) run.report.failures.push({ step: stepName, item, transient: r.transient, code: r.code, message: r.message });
}

// 1. Dead-lettered events: process them again; the dead-letter blob goes once its events are settled, and is moved
// aside (under poison/, with the reason in its metadata) when it cannot be read, fails for good, or keeps failing.
async function replayDeadLetters(run: Run): Promise<void> {
  const { o, deps } = run;
  const maxAttempts = o.maxDeadLetterAttempts ?? DEFAULT_DEAD_LETTER_ATTEMPTS;
  try {
    for await (const b of o.deadLetter.listBlobsFlat({ includeMetadata: true })) {
      if (run.budget <= 0) break;
      if (b.name.startsWith(POISON_PREFIX) || !b.name.endsWith('.json')) continue;
      try {
        await replayOne(run, b, maxAttempts, deps.images.containerName);
      } catch (e) {
        // Moving aside or deleting failed (storage outage): the blob stays and is tried again next run.
        const r = failure(e);
        record(run, 'deadLetter', b.name, r);
        run.log.error('reconcile: could not settle a dead-letter blob', { name: b.name, code: r.code, error: r.message });
      }
    }
  } catch (e) {
    // No dead-letter container yet: nothing was ever dead-lettered.
    if ((e as { statusCode?: unknown }).statusCode === 404) return;
    throw e;
  }
}

async function replayOne(run: Run, b: BlobItem, maxAttempts: number, imagesContainer: string): Promise<void> {
  const blob = run.o.deadLetter.getBlockBlobClient(b.name);
  const etag = b.properties.etag;
  if ((b.properties.contentLength ?? 0) > MAX_DEAD_LETTER_BYTES) {
    await moveAside(run, b, undefined, `unreadable: ${b.properties.contentLength} bytes, more than a dead letter can hold`);
    return;
  }
  const bytes = await blob.downloadToBuffer(0, undefined, etag === undefined ? {} : { conditions: { ifMatch: etag } });
  let events: unknown[];
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    events = Array.isArray(parsed) ? parsed : [parsed];
  } catch (e) {
    await moveAside(run, b, bytes, `unreadable: not JSON (${e instanceof Error ? e.message : String(e)})`);
    return;
  }
  let transient: Extract<ItemResult, { ok: false }> | undefined;
  for (const ev of events) {
    const name = blobNameOf(ev, imagesContainer);
    if (name === undefined) continue;
    if (run.budget <= 0) {
      // Out of budget halfway through the blob: it stays, as it is, for the next run.
      return;
    }
    const r = await redo(run, 'deadLetter', b.name, 'deadLettered', () => processBlobCreated(ev, run.deps));
    if (r.ok) continue;
    if (!r.transient) {
      // Retrying will not help: keep it for a person (and for a fixed release), out of every future run's way.
      await moveAside(run, b, bytes, `failed for good on ${name}: ${r.code}: ${r.message}`);
      return;
    }
    transient = r;
  }
  if (transient === undefined) {
    await blob.deleteIfExists(etag === undefined ? {} : { conditions: { ifMatch: etag } });
    return;
  }
  const attempts = Number.parseInt(b.metadata?.['reconcileattempts'] ?? '0', 10) + 1;
  if (!(attempts < maxAttempts)) {
    await moveAside(run, b, bytes, `still failing after ${attempts} runs: ${transient.code}: ${transient.message}`);
    return;
  }
  await blob
    .setMetadata({ ...b.metadata, reconcileattempts: String(attempts), reconcilelasterror: headerSafe(`${transient.code}: ${transient.message}`) }, etag === undefined ? {} : { conditions: { ifMatch: etag } })
    .catch((e: unknown) => {
      // Another run touched it meanwhile; its count stands.
      if ((e as { statusCode?: unknown }).statusCode !== 412) throw e;
    });
}

/** Copies the dead-letter blob to poison/<name> with the reason in its metadata, then deletes the original. */
async function moveAside(run: Run, b: BlobItem, bytes: Buffer | undefined, reason: string): Promise<void> {
  const target = run.o.deadLetter.getBlockBlobClient(`${POISON_PREFIX}${b.name}`);
  const metadata = { ...b.metadata, reconcilereason: headerSafe(reason), reconcilemovedat: run.now().toISOString() };
  if (bytes !== undefined) {
    await target.uploadData(bytes, { metadata, blobHTTPHeaders: { blobContentType: b.properties.contentType ?? 'application/json' } });
  } else {
    const source = run.o.deadLetter.getBlobClient(b.name);
    const poller = await target.beginCopyFromURL(source.url, { metadata, abortSignal: AbortSignal.timeout(COPY_TIMEOUT_MS) });
    await poller.pollUntilDone();
  }
  const etag = b.properties.etag;
  await run.o.deadLetter.getBlobClient(b.name).deleteIfExists(etag === undefined ? {} : { conditions: { ifMatch: etag } });
  run.report.movedAside++;
  run.log.error('reconcile: dead-letter blob moved aside; it will not be retried', { name: b.name, to: target.name, reason });
}

/** Blob metadata travels in HTTP headers: printable ASCII only, and short. */
function headerSafe(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 512);
}

// 2. Claims whose lease ran out and that nobody retried: redo, or finalise after the retry horizon. Paged by id, so
// documents rewritten while the step runs (by it or by live deliveries) neither skip nor repeat the others.
async function redoStaleClaims(run: Run): Promise<void> {
  const { deps, o } = run;
  const updatedBefore = new Date(run.now().getTime() - o.staleAfterMs).toISOString();
  let after = '';
  while (run.budget > 0) {
    const page = await deps.store.listProcessing({ after, updatedBefore, limit: STALE_PAGE_SIZE });
    for (const doc of page) {
      if (run.budget <= 0) return;
      after = doc.id;
      const t = run.now().getTime();
      if (doc.lease !== null && doc.lease !== undefined && Date.parse(doc.lease.expiresAt) > t) continue;
      if (t - Date.parse(doc.firstAttemptAt ?? doc.createdAt) > o.retryHorizonMs) {
        try {
          if (await finaliseFailed(deps, doc, run.now())) run.report.finalisedFailed++;
        } catch (e) {
          const r = failure(e);
          if (r.transient) run.report.stillFailing++;
          else run.report.errored++;
          record(run, 'stale', doc.blob.name, r);
          run.log.error('reconcile: could not finalise a claim past the retry horizon', { id: doc.id, code: r.code, error: r.message });
        }
        continue;
      }
      await redo(run, 'stale', doc.blob.name, 'stale', async () => processBlobCreated(await currentEvent(deps.images, doc.blob.name), deps));
    }
    if (page.length < STALE_PAGE_SIZE) return;
  }
}

// 3. Blobs with no document at all (their event never arrived, or was malformed), and blobs whose document describes
// an older version. Resumes from the durable cursor; one list call and one lookup query per page of blobs.
async function scanForOrphans(run: Run): Promise<void> {
  const { deps, o, report } = run;
  const container = deps.images.containerName;
  const cursors = deps.store.scanCursors();
  const cursor = await cursors.read(container, run.now());
  report.scan.pass = cursor.pass;
  let marker = cursor.marker;
  let scannedThisPass = cursor.scannedThisPass;
  let wrapped = false;
  // Listing pages can come back empty with a marker; bound the pages a run reads, not only the blobs.
  const maxPages = Math.ceil(o.maxScan / SCAN_PAGE_SIZE) + 10;
  for (let pages = 0, scanned = 0; scanned < o.maxScan && pages < maxPages; pages++) {
    const iterator = deps.images
      .listBlobsFlat()
      .byPage({ maxPageSize: Math.min(SCAN_PAGE_SIZE, o.maxScan - scanned), ...(marker === null ? {} : { continuationToken: marker }) });
    const next = await iterator.next();
    const page = next.done === true ? undefined : next.value;
    const items = page?.segment.blobItems ?? [];
    const finished = await checkPage(run, items);
    report.scanned += finished.looked;
    // Out of budget inside this page: the cursor stays at its start, so the rest of it is looked at next run.
    if (!finished.complete) break;
    scanned += items.length;
    scannedThisPass += items.length;
    const token = page?.continuationToken;
    if (token === undefined || token === '') {
      marker = null;
      wrapped = true;
      break;
    }
    marker = token;
  }
  report.scan.wrapped = wrapped;
  if (wrapped) {
    run.log.info('reconcile: the orphan scan covered the whole container; the next run starts at the top', { container, pass: cursor.pass, blobs: scannedThisPass, since: cursor.passStartedAt });
  }
  if (!wrapped && marker === cursor.marker && cursor._etag !== undefined) return;
  const stored = await cursors.advance(
    cursor,
    wrapped
      ? { marker: null, pass: cursor.pass + 1, passStartedAt: run.now().toISOString(), scannedThisPass: 0 }
      : { marker, pass: cursor.pass, passStartedAt: cursor.passStartedAt, scannedThisPass },
    run.now(),
  );
  if (stored === 'conflict') {
    // Another run moved the cursor while this one scanned: its position stands (both started from positions already
    // stored, so nothing is skipped; at worst a range is looked at twice).
    report.scan.cursorConflict = true;
    run.log.warn('reconcile: another run moved the scan cursor meanwhile; keeping its position', { container });
  }
}

/** Looks up one page of blobs in one query and redoes those that need it; `complete` false when the budget ran out. */
async function checkPage(run: Run, items: BlobItem[]): Promise<{ complete: boolean; looked: number }> {
  if (items.length === 0) return { complete: true, looked: 0 };
  const { deps, o } = run;
  const container = deps.images.containerName;
  const ids = items.map((b) => documentId(container, b.name));
  const stored = await deps.store.versionsOf(ids);
  const t = run.now().getTime();
  let looked = 0;
  for (const [i, b] of items.entries()) {
    const kind = needs(stored.get(ids[i] ?? ''), b, t, o.staleAfterMs);
    if (kind !== undefined) {
      if (run.budget <= 0) return { complete: false, looked };
      await redo(run, 'scan', b.name, kind, () => processBlobCreated(eventFor(deps.images, b.name, b.properties), deps));
    }
    looked++;
  }
  return { complete: true, looked };
}

/** What a listed blob needs: nothing, a first processing (orphan), or processing of its current version (outdated). */
function needs(stored: StoredVersion | undefined, b: BlobItem, nowMs: number, staleAfterMs: number): 'orphans' | 'outdated' | undefined {
  // Give Event Grid its chance first: only blobs last written longer ago than the stale threshold count as lost.
  const written = b.properties.lastModified.getTime();
  if (nowMs - written <= staleAfterMs) return undefined;
  if (stored === undefined) return 'orphans';
  // A claim in flight is the stale step's business; a final document of another eTag lost the newest write's event.
  if (stored.status === 'processing' || stored.status === 'deleted') return undefined;
  return bareETag(stored.eTag) === bareETag(b.properties.etag) ? undefined : 'outdated';
}

/** Listings and headers quote eTags differently (`0x8D…` vs `"0x8D…"`); compare them bare. */
function bareETag(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** The retry horizon passed with the version still failing transiently: record that, with the last error. */
async function finaliseFailed(deps: PipelineDeps, doc: ImageDocument, now: Date): Promise<boolean> {
  const last = doc.lastError ?? { code: 'unknown', message: 'no error was recorded', at: doc.updatedAt };
  const next: ImageDocument = {
    ...doc,
    status: 'failed',
    lease: null,
    error: { code: last.code, message: `Still failing after the retry horizon: ${last.message}`, details: { attempts: doc.attempts ?? 0, firstAttemptAt: doc.firstAttemptAt ?? null, lastErrorAt: last.at } },
    updatedAt: now.toISOString(),
  };
  // Its ImageFailed event is owed like any final write's: the timer's outbox pass publishes it (reconcileTimer).
  if (deps.outbound !== undefined) next.outbound = deps.outbound.markFor(next, doc.outbound);
  // Conditional: a worker that took the version over meanwhile wins (its write is newer than this verdict).
  const written = await deps.store.replace({ ...next, finishedAt: next.updatedAt }, requireETag(doc));
  if (written !== 'conflict') {
    recordImageOutcome(written);
    await deps.stats?.recordResult(written);
  }
  return written !== 'conflict';
}

type BlobFacts = { etag?: string | undefined; contentLength?: number | undefined; contentType?: string | undefined };

/** A BlobCreated event for the blob as it is now, for images whose own event is gone, from the blob's properties. */
async function currentEvent(images: ContainerClient, blobName: string): Promise<unknown> {
  const p = await images
    .getBlobClient(blobName)
    .getProperties()
    .catch(() => undefined);
  return eventFor(images, blobName, p);
}

/** The same from a listing's properties: the storage's own facts at listing time, without one more call per blob. */
function eventFor(images: ContainerClient, blobName: string, p: BlobFacts | undefined): unknown {
  return {
    id: `reconcile-${randomUUID()}`,
    subject: `/blobServices/default/containers/${images.containerName}/blobs/${blobName}`,
    eventType: BLOB_CREATED,
    eventTime: new Date().toISOString(),
    data: {
      api: 'PutBlob',
      ...(p?.etag === undefined ? {} : { eTag: `"${bareETag(p.etag)}"` }),
      ...(p?.contentLength === undefined ? {} : { contentLength: p.contentLength }),
      ...(p?.contentType === undefined ? {} : { contentType: p.contentType }),
      url: images.getBlobClient(blobName).url,
    },
    dataVersion: '',
    metadataVersion: '1',
  };
}

function blobNameOf(ev: unknown, container: string): string | undefined {
  const parsed = parseBlobEvent(ev);
  return parsed.kind === 'ok' && parsed.event.container === container ? parsed.event.blobName : undefined;
}

