/**
 * Stands in for Event Grid on one machine: watches the images container and delivers BlobCreated/BlobDeleted events
 * to a webhook, at least once, with Event Grid's retry schedule (compressed) and its dead-letter blobs.
 */
import type { BlobItem, ContainerClient } from '@azure/storage-blob';

import type { BlobFacts, StorageBlobEvent } from './blobEvents';
import { blobCreatedEvent, blobDeletedEvent, storageTopic } from './blobEvents';
import type { DeadLetterReason } from './deadLetter';
import { deadLetterBlobName, deadLetterRecord, deliveryOutcome } from './deadLetter';
import { EVENT_GRID_DELIVERY_TIMEOUT_MS, EVENT_GRID_EVENT_TTL_MS, EVENT_GRID_MAX_ATTEMPTS, NOT_RETRIED_STATUSES, retryDelayMs } from './retrySchedule';

export interface EventGridStandInOptions {
  /** The container to watch (the app's images container). */
  images: ContainerClient;
  /** Where undeliverable events go (created if missing). */
  deadLetter: ContainerClient;
  /** The subscriber, e.g. `http://127.0.0.1:7071/runtime/webhooks/EventGrid?functionName=classifyBlob`. */
  endpoint: string;
  /**
   * The host key the webhook wants (the host's `eventgrid_extension` system key; on the dev host its one key), sent
   * as x-functions-key. Event Grid puts it in the subscription URL as `code`; a header keeps it out of log lines.
   */
  key?: string;
  /** How often the container is listed, ms. Default 500. */
  pollMs?: number;
  /** Multiplies Event Grid's retry delays and event time to live: 1 is Azure's schedule. Default 0.01 (10 s → 100 ms). */
  retryScale?: number;
  /** Delivery attempts before dead-lettering (Event Grid's maxDeliveryAttempts, 1-30). Default 30. */
  maxAttempts?: number;
  /** Deliveries in flight at once. Default 4. */
  concurrency?: number;
  /** Events waiting (new or for a retry) at most; past this, new blobs wait for a later listing. Default 1000. */
  maxQueue?: number;
  /** How long one delivery may take before it counts as failed, ms. Default 30 000, as Event Grid. */
  deliveryTimeoutMs?: number;
  /** How long stop() waits for deliveries in flight before cutting them off, ms. Default 10 000. */
  stopTimeoutMs?: number;
  /** The event subscription's name, used in dead-letter blob names and the aeg-subscription-name header. */
  subscriptionName?: string;
  log?: (line: string) => void;
  /** 0..1, for the ±20 % jitter; tests pass a constant. */
  random?: () => number;
}

export interface StandInStats {
  /** Events queued since start (BlobCreated and BlobDeleted). */
  announced: number;
  delivered: number;
  failedAttempts: number;
  deadLettered: number;
}

interface Delivery {
  event: StorageBlobEvent;
  /** `BlobCreated images/a.jpg`, for log lines. */
  label: string;
  attempts: number;
  publishedAt: Date;
  dueAt: number;
  lastStatus: number | null;
  lastOutcome: string;
  lastAttemptAt: Date;
}

interface Known {
  eTag: string;
  facts: BlobFacts;
}

export class EventGridStandIn {
  readonly stats: StandInStats = { announced: 0, delivered: 0, failedAttempts: 0, deadLettered: 0 };
  private readonly o: Required<Omit<EventGridStandInOptions, 'log' | 'random' | 'key'>> & { log: ((line: string) => void) | undefined; key: string | undefined };
  private readonly random: () => number;
  private readonly known = new Map<string, Known>();
  private readonly waiting: Delivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private pollTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private listingFailed = false;

  constructor(options: EventGridStandInOptions) {
    const maxAttempts = options.maxAttempts ?? EVENT_GRID_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 30) throw new Error(`maxAttempts must be 1-30, as in Event Grid; got ${maxAttempts}.`);
    const retryScale = options.retryScale ?? 0.01;
    if (!(retryScale > 0)) throw new Error(`retryScale must be above 0; got ${retryScale}.`);
    this.o = {
      images: options.images,
      deadLetter: options.deadLetter,
      endpoint: options.endpoint,
      key: options.key,
      pollMs: options.pollMs ?? 500,
      retryScale,
      maxAttempts,
      concurrency: Math.max(1, options.concurrency ?? 4),
      maxQueue: Math.max(1, options.maxQueue ?? 1000),
      deliveryTimeoutMs: options.deliveryTimeoutMs ?? EVENT_GRID_DELIVERY_TIMEOUT_MS,
      stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
      subscriptionName: options.subscriptionName ?? 'blobsight-local',
      log: options.log,
    };
    this.random = options.random ?? Math.random;
  }

  /**
   * Lists the container once, announcing every blob already there (at least once: the pipeline skips versions it
   * has finished, at no model cost), then keeps watching. Resolves with the number of blobs found.
   */
  async start(): Promise<number> {
    await this.o.deadLetter.createIfNotExists();
    await this.poll();
    this.schedulePoll();
    return this.known.size;
  }

  /** Events waiting or in flight. */
  get pending(): number {
    return this.waiting.length + this.inFlight.size;
  }

  /**
   * Stops watching and dispatching, waits (bounded) for deliveries in flight, then cuts off the rest. Undelivered
   * events are not lost for good: the next start announces every blob again.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.pollTimer);
      clearTimeout(this.wakeTimer);
      await this.polling;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.o.stopTimeoutMs)));
      await Promise.race([Promise.allSettled([...this.inFlight]), timedOut]);
      clearTimeout(timer);
      this.abort.abort();
      await Promise.allSettled([...this.inFlight]);
      if (this.waiting.length > 0) this.log(`Event Grid: stopped with ${this.waiting.length} event(s) waiting for a retry; they are announced again on the next start`);
    })();
    return this.stopping;
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  private schedulePoll(): void {
    if (this.stopping !== undefined) return;
    this.pollTimer = setTimeout(() => {
      void this.poll().finally(() => this.schedulePoll());
    }, this.o.pollMs);
  }

  private poll(): Promise<void> {
    this.polling = this.listOnce().catch((e: unknown) => {
      // Say it once per outage, not twice a second.
      if (!this.listingFailed) this.log(`Event Grid: cannot list container ${this.o.images.containerName}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      this.listingFailed = true;
    });
    return this.polling;
  }

  /** One listing: a new or changed eTag is a BlobCreated, a name no longer listed a BlobDeleted. */
  private async listOnce(): Promise<void> {
    const seen = new Set<string>();
    for await (const item of this.o.images.listBlobsFlat()) {
      if (this.stopping !== undefined) return;
      seen.add(item.name);
      const eTag = quoted(item.properties.etag ?? '');
      if (this.known.get(item.name)?.eTag === eTag) continue;
      // Full: leave it unrecorded so a later listing announces it.
      if (this.pending >= this.o.maxQueue) continue;
      const facts = this.facts(item);
      this.known.set(item.name, { eTag, facts });
      this.enqueue(blobCreatedEvent(facts, await this.writeApi(item)), `BlobCreated ${item.name}`);
    }
    this.listingFailed = false;
    for (const [name, k] of this.known) {
      if (seen.has(name) || this.pending >= this.o.maxQueue) continue;
      this.known.delete(name);
      this.enqueue(blobDeletedEvent(k.facts), `BlobDeleted ${name}`);
    }
  }

  private facts(item: BlobItem): BlobFacts {
    return {
      accountName: this.o.images.accountName,
      container: this.o.images.containerName,
      name: item.name,
      url: this.o.images.getBlobClient(item.name).url,
      eTag: quoted(item.properties.etag ?? ''),
      contentLength: item.properties.contentLength ?? 0,
      contentType: item.properties.contentType ?? null,
      blobType: item.properties.blobType ?? 'BlockBlob',
    };
  }

  /** Storage reports how the blob was written: committed blocks mean Put Block List, none a single Put Blob. */
  private async writeApi(item: BlobItem): Promise<'PutBlob' | 'PutBlockList'> {
    if (item.properties.blobType !== undefined && item.properties.blobType !== 'BlockBlob') return 'PutBlob';
    try {
      const list = await this.o.images.getBlockBlobClient(item.name).getBlockList('committed', { abortSignal: this.abort.signal });
      return (list.committedBlocks?.length ?? 0) > 0 ? 'PutBlockList' : 'PutBlob';
    } catch {
      return 'PutBlob';
    }
  }

  private enqueue(event: StorageBlobEvent, label: string): void {
    const now = new Date();
    this.stats.announced++;
    this.waiting.push({ event, label, attempts: 0, publishedAt: now, dueAt: now.getTime(), lastStatus: null, lastOutcome: 'None', lastAttemptAt: now });
    this.pump();
  }

  /** Starts due deliveries up to the concurrency limit, and sets a timer for the next one due. */
  private pump(): void {
    if (this.stopping !== undefined) return;
    clearTimeout(this.wakeTimer);
    const now = Date.now();
    while (this.inFlight.size < this.o.concurrency) {
      let next = -1;
      for (let i = 0; i < this.waiting.length; i++) {
        const d = this.waiting[i] as Delivery;
        if (d.dueAt <= now && (next < 0 || d.dueAt < (this.waiting[next] as Delivery).dueAt)) next = i;
      }
      if (next < 0) break;
      const [delivery] = this.waiting.splice(next, 1) as [Delivery];
      const p: Promise<void> = this.attempt(delivery).finally(() => {
        this.inFlight.delete(p);
        this.pump();
      });
      this.inFlight.add(p);
    }
    if (this.inFlight.size < this.o.concurrency && this.waiting.length > 0) {
      const soonest = Math.min(...this.waiting.map((d) => d.dueAt));
      this.wakeTimer = setTimeout(() => this.pump(), Math.max(0, soonest - now));
    }
  }

  private async attempt(d: Delivery): Promise<void> {
    d.attempts++;
    d.lastAttemptAt = new Date();
    let status: number | null = null;
    const timeout = AbortSignal.timeout(this.o.deliveryTimeoutMs);
    try {
      const res = await fetch(this.o.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'aeg-event-type': 'Notification',
          'aeg-subscription-name': this.o.subscriptionName.toUpperCase(),
          'aeg-delivery-count': String(d.attempts - 1),
          'aeg-data-version': d.event.dataVersion,
          'aeg-metadata-version': d.event.metadataVersion,
          ...(this.o.key === undefined ? {} : { 'x-functions-key': this.o.key }),
        },
        body: JSON.stringify([d.event]),
        signal: AbortSignal.any([timeout, this.abort.signal]),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      d.lastOutcome = deliveryOutcome(status);
    } catch {
      // Cut off by stop(): not a failed attempt; the next start announces the blob again.
      if (this.abort.signal.aborted) return;
      d.lastOutcome = deliveryOutcome(null, timeout.aborted ? 'timeout' : 'network');
    }
    d.lastStatus = status;
    if (status !== null && status >= 200 && status < 300) {
      this.stats.delivered++;
      if (d.attempts > 1) this.log(`Event Grid: ${d.label} delivered on attempt ${d.attempts}`);
      return;
    }
    this.stats.failedAttempts++;
    const answer = status === null ? d.lastOutcome : `HTTP ${status}`;
    if (status !== null && NOT_RETRIED_STATUSES.has(status)) return this.deadLetter(d, 'UndeliverableDueToClientError');
    if (d.attempts >= this.o.maxAttempts) return this.deadLetter(d, 'MaxDeliveryAttemptsExceeded');
    const delay = retryDelayMs(d.attempts, this.o.retryScale, this.random);
    if (Date.now() + delay > d.publishedAt.getTime() + EVENT_GRID_EVENT_TTL_MS * this.o.retryScale) return this.deadLetter(d, 'TimeToLiveExceeded');
    this.log(`Event Grid: ${d.label} attempt ${d.attempts} failed (${answer}); retrying in ${delay} ms`);
    d.dueAt = Date.now() + delay;
    this.waiting.push(d);
  }

  private async deadLetter(d: Delivery, reason: DeadLetterReason): Promise<void> {
    const now = new Date();
    const record = deadLetterRecord(d.event, reason, { attempts: d.attempts, status: d.lastStatus, outcome: d.lastOutcome, publishedAt: d.publishedAt, lastAttemptAt: d.lastAttemptAt });
    const name = deadLetterBlobName(storageTopic(this.o.images.accountName), this.o.subscriptionName, now);
    const body = JSON.stringify([record], null, 2);
    try {
      await this.o.deadLetter.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), { blobHTTPHeaders: { blobContentType: 'application/json' } });
      this.stats.deadLettered++;
      this.log(`Event Grid: ${d.label} dead-lettered after ${d.attempts} attempt(s) (${reason}, last ${d.lastOutcome}) → ${this.o.deadLetter.containerName}/${name}`);
    } catch (e) {
      this.log(`Event Grid: ${d.label} could not be dead-lettered: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
}

/** List Blobs reports eTags bare (`0x8D...`); Event Grid and the blob's own headers quote them (`"0x8D..."`). */
function quoted(eTag: string): string {
  return eTag === '' || eTag.startsWith('"') || eTag.startsWith('W/') ? eTag : `"${eTag}"`;
}
