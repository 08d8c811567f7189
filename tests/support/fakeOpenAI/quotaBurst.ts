/**
 * A burst of uploads against the fake deployment with a quota: `instances` simulated function instances, each with
 * its own QuotaPacer, openai client and `concurrency` worker loops, share one deployment. The model path is the
 * service's own (OpenAIClassifier → pacedFetch → SDK → the fake); what the pipeline does around it (claim, download,
 * store) is not simulated. Events come from an "Event Grid" backlog first; a throttled one is parked in an in-memory
 * stand-in for the Storage queue with the delay the service would give it, and drained by the same workers.
 * With `coordination: 'ledger'` (the service's default) the instances take their send times from one shared slot
 * ledger (SlotLedger over an in-memory SlotStore whose calls yield like a round trip); 'local' paces each alone.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { isTransientError } from '../../../shared/errors';
import { createOpenAIClient, OpenAIClassifier } from '../../../shared/model';
import type { PreprocessedImage } from '../../../shared/preprocess/preprocessedImage';
import type { LabelProfile } from '../../../shared/profiles/profileSchema';
import { MemorySlotStore } from '../../../shared/throughput/MemorySlotStore';
import { parkDelayMs } from '../../../shared/throughput/parkDelayMs';
import type { ParkingLot } from '../../../shared/throughput/ParkingLot';
import { QuotaPacer } from '../../../shared/throughput/QuotaPacer';
import { SlotLedger } from '../../../shared/throughput/SlotLedger';
import type { FakeOpenAI } from './fakeOpenAIServer';
import type { VirtualClock } from './quotaVirtualClock';

export interface BurstConfig {
  fake: FakeOpenAI;
  profile: LabelProfile;
  image: PreprocessedImage;
  uploads: number;
  instances: number;
  /** Worker loops per instance (per-instance concurrency). */
  concurrency: number;
  /** The app's maximum instance count, which the pacer's floor is derived from. */
  maxInstances: number;
  /** Longest wait for a pacer slot before parking, in quota ms (PACER_MAX_WAIT_MS). */
  maxWaitMs: number;
  /** Queue polling interval when idle, in quota ms (host.json maxPollingInterval). */
  pollMs: number;
  /** Stop after this many clock ms (real, or simulated) even if the backlog is not drained (reported as undrained). */
  giveUpAfterMs: number;
  /** On the simulated clock, also stop after this many real ms; default 600,000. */
  realLimitMs?: number;
  utilisation?: number;
  /** 'ledger' (default): one shared send schedule for all instances; 'local': each instance paces on its own. */
  coordination?: 'ledger' | 'local';
  /**
   * The simulated clock the fake was started with (quota `now`/`sleep`, compression 1): time then moves only when all
   * instances wait, so this machine's load cannot bunch sends. Without it, real time runs compressed.
   */
  clock?: VirtualClock;
  /** The ledger document's round trip (read or conditional write), in quota ms; default 10. */
  ledgerRoundTripMs?: number;
  onProgress?: (answered: number) => void;
}

export interface BurstResult {
  uploads: number;
  instances: number;
  tpm: number;
  timeCompression: number;
  answered: number;
  /** Events never answered when the run stopped. */
  undrained: number;
  /** Quota-time drain of the whole burst, and the quota's ideal (every counted token at full TPM). */
  drainMinutes: number;
  idealMinutes: number;
  drainOverIdeal: number;
  modelCalls: number;
  answered429: number;
  share429: number;
  utilisation: number;
  parks: number;
  parksPerUpload: number;
  tokensPerRequest: number;
  coordination: 'ledger' | 'local';
  /** Slots given up because the timer fired too late to use them (stalls), summed over instances. */
  forfeitedSlots: number;
  /** Slot ledger traffic: conditional writes, of which conflicts, and reservations answered 'unavailable'. */
  ledgerWrites: number;
  ledgerConflicts: number;
  ledgerUnavailable: number;
  /** 'virtual': the simulated clock; 'real': real time compressed by timeCompression. */
  clock: 'virtual' | 'real';
  /** Real seconds the run took, and CPU seconds this process spent meanwhile (user + system). */
  realSeconds: number;
  cpuSeconds: number;
  /** Real ms inside model HTTP round trips (simulated clock only), summed. */
  fetchRealMs: number;
  /** Real-time event-loop delay p99 (ms): high values mean this machine, not the design, slowed the run. */
  loopDelayP99Ms: number;
}

interface Parked {
  visibleAt: number;
  id: number;
  parks: number;
}

/** The Storage queue's stand-in: messages invisible until their time (a min-heap), a count that includes invisible ones. */
/** How the simulation tells time: the real clock (compressed) or a VirtualClock. */
interface Time {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** A stand-in for I/O (a queue call): yields; on the simulated clock, time stands still meanwhile. */
  io: () => Promise<void>;
}

class MemoryQueue implements ParkingLot<{ id: number; parks: number }> {
  private readonly heap: Parked[] = [];
  /** `secondMs`: one quota second in clock ms; visibility timeouts are whole seconds, as in Azure Storage. */
  constructor(
    private readonly secondMs: number,
    private readonly time: Time,
  ) {}
  async park(item: { id: number; parks: number }, delayMs: number): Promise<void> {
    // A queue write is I/O: yield, so a burst of parks never starves the timers.
    await this.time.io();
    this.heap.push({ ...item, visibleAt: this.time.now() + Math.ceil(delayMs / this.secondMs) * this.secondMs });
    this.up(this.heap.length - 1);
  }
  backlog(): Promise<number> {
    return Promise.resolve(this.heap.length);
  }
  get size(): number {
    return this.heap.length;
  }
  /** Takes the earliest visible message, or says when the next one becomes visible. */
  take(now: number): Parked | { nextAt: number | undefined } {
    const top = this.heap[0];
    if (top === undefined) return { nextAt: undefined };
    if (top.visibleAt > now) return { nextAt: top.visibleAt };
    const last = this.heap.pop() as Parked;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }
  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((h[p] as Parked).visibleAt <= (h[i] as Parked).visibleAt) return;
      [h[p], h[i]] = [h[i] as Parked, h[p] as Parked];
      i = p;
    }
  }
  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && (h[l] as Parked).visibleAt < (h[m] as Parked).visibleAt) m = l;
      if (r < h.length && (h[r] as Parked).visibleAt < (h[m] as Parked).visibleAt) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i] as Parked, h[m] as Parked];
      i = m;
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export async function runBurst(c: BurstConfig): Promise<BurstResult> {
  const gate = c.fake.quota;
  if (gate === undefined) throw new Error('runBurst needs a fake started with a quota');
  const { tpm, timeCompression: k } = gate.options;
  const minuteMs = 60_000 / k;
  const clock = c.clock;
  if (clock !== undefined && (k !== 1 || gate.sleep === undefined)) throw new Error('runBurst: a simulated clock needs a fake started with that clock (quota now/sleep) and no time compression');
  const time: Time =
    clock === undefined
      ? { now: Date.now, sleep, io: () => new Promise((r) => setImmediate(r)) }
      : { now: clock.now, sleep: clock.sleep, io: () => clock.track(() => new Promise((r) => setImmediate(r))) };
  const realStart = Date.now();
  const cpuStart = process.cpuUsage();
  let fetchRealMs = 0;
  c.fake.reset();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();

  const queue = new MemoryQueue(1000 / k, time);
  let eventGrid = c.uploads;
  let answered = 0;
  let parks = 0;
  let lastAnswerAt = 0;
  const start = time.now();
  // On the simulated clock the limit is simulated time (the same budget uncompressed); real time is bounded by the caller.
  const giveUpAt = start + c.giveUpAfterMs;
  const realGiveUpAt = realStart + (clock === undefined ? c.giveUpAfterMs : (c.realLimitMs ?? 600_000));

  const coordination = c.coordination ?? 'ledger';
  const roundTrip = (c.ledgerRoundTripMs ?? 10) / k;
  const store = new MemorySlotStore(() => time.sleep(roundTrip));
  // The model calls are real HTTP to the fake: on the simulated clock they are tracked work (time stands still
  // until the answer is read, except for the latency the fake sleeps on the clock).
  const modelFetch: typeof fetch | undefined =
    clock === undefined
      ? undefined
      : (input, init) =>
          clock.track(async () => {
            const t0 = Date.now();
            const r = await fetch(input, init);
            const body = await r.arrayBuffer();
            fetchRealMs += Date.now() - t0;
            return new Response(body, { status: r.status, statusText: r.statusText, headers: r.headers });
          });
  type Instance = { classifier: OpenAIClassifier; pacer: QuotaPacer; ledger: SlotLedger | undefined };
  const instance = (): Instance => {
    // A conflict backoff of a few real ms would be minutes of quota time here: retry at the next turn of the loop.
    const ledger = coordination === 'ledger' ? new SlotLedger(store, { conflictBackoffMs: clock === undefined ? 0 : 4, cooldownMs: 10_000 / k, now: time.now, ...(clock === undefined ? {} : { sleep: clock.sleep }) }) : undefined;
    const pacer = new QuotaPacer({
      tokensPerMinute: tpm,
      maxInstances: c.maxInstances,
      minuteMs,
      now: time.now,
      ...(clock === undefined ? {} : { sleep: clock.sleep }),
      ...(c.utilisation === undefined ? {} : { utilisation: c.utilisation }),
      ...(ledger === undefined ? {} : { ledger }),
    });
    const client = createOpenAIClient(
      { provider: 'azure-openai', endpoint: c.fake.url, deployment: c.fake.deployment, apiVersion: c.fake.apiVersion, apiKey: c.fake.apiKey },
      { timeoutMs: 20_000, maxRetries: 2, logprobs: false },
      { pacer: { pacer, maxWaitMs: c.maxWaitMs / k }, ...(modelFetch === undefined ? {} : { fetch: modelFetch }) },
    );
    const classifier = new OpenAIClassifier({
      client,
      info: { provider: 'azure-openai', deployment: c.fake.deployment, apiVersion: c.fake.apiVersion },
      model: c.fake.deployment,
      prices: {},
      logprobs: false,
    });
    return { classifier, pacer, ledger };
  };

  const tokensPerRequest = (): number => (gate.stats.admitted > 0 ? gate.stats.admittedTokens / gate.stats.admitted : 0);

  /** One event on one instance: the model call, or a park with the delay the service would give it. */
  const handle = async (inst: Instance, item: { id: number; parks: number }): Promise<void> => {
    try {
      await inst.classifier.classify({ image: c.image, profile: c.profile });
      answered++;
      lastAnswerAt = time.now();
      c.onProgress?.(answered);
      // The fake keeps every request; a long run only needs the quota's counters.
      if (c.fake.requests.length > 1_000) c.fake.requests.length = 0;
    } catch (e) {
      const retryAfterMs = isTransientError(e) && e.code === 'model_throttled' ? (e.retryAfterMs ?? 0) : minuteMs / 60;
      await queue.park({ id: item.id, parks: item.parks + 1 }, parkDelayMs(inst.pacer, item.parks, retryAfterMs, await queue.backlog(), tokensPerRequest()));
      parks++;
    }
  };

  /** Like the Functions host's queue listener: one poller per instance, at most `concurrency` events in hand. */
  const run = async (inst: Instance): Promise<void> => {
    const running = new Set<Promise<void>>();
    while (answered < c.uploads && time.now() < giveUpAt && Date.now() < realGiveUpAt) {
      if (running.size >= c.concurrency) {
        await Promise.race(running);
        continue;
      }
      let item: { id: number; parks: number } | undefined;
      if (eventGrid > 0) item = { id: eventGrid--, parks: 0 };
      else {
        const got = queue.take(time.now());
        if ('id' in got) item = got;
        else {
          const poll = c.pollMs / k;
          const untilNext = got.nextAt === undefined ? poll : Math.min(poll, got.nextAt - time.now());
          await (running.size > 0 ? Promise.race([time.sleep(untilNext), ...running]) : time.sleep(untilNext));
          continue;
        }
      }
      const p: Promise<void> = handle(inst, item).finally(() => running.delete(p));
      running.add(p);
      // Receiving a message is I/O too.
      await time.io();
    }
    await Promise.all(running);
  };

  const instances = Array.from({ length: c.instances }, instance);
  let finished = false;
  const all = Promise.all(instances.map(run)).finally(() => (finished = true));
  await Promise.all([all, clock?.run(() => finished, realGiveUpAt)]);
  loop.disable();

  const s = gate.stats;
  const calls = s.admitted + s.throttled;
  const drainMinutes = ((lastAnswerAt - start) * k) / 60_000;
  const idealMinutes = s.admittedTokens / tpm;
  return {
    uploads: c.uploads,
    instances: c.instances,
    tpm,
    timeCompression: k,
    answered,
    undrained: c.uploads - answered,
    drainMinutes: round(drainMinutes, 2),
    idealMinutes: round(idealMinutes, 2),
    drainOverIdeal: round(drainMinutes / idealMinutes, 3),
    modelCalls: calls,
    answered429: s.throttled,
    share429: round(s.throttled / Math.max(1, calls), 4),
    utilisation: round(s.admittedTokens / (tpm * drainMinutes), 3),
    parks,
    parksPerUpload: round(parks / c.uploads, 2),
    tokensPerRequest: round(s.admittedTokens / Math.max(1, s.admitted), 1),
    coordination,
    forfeitedSlots: instances.reduce((n, i) => n + i.pacer.snapshot().forfeited, 0),
    ledgerWrites: instances.reduce((n, i) => n + (i.ledger?.counts.writes ?? 0), 0),
    ledgerConflicts: instances.reduce((n, i) => n + (i.ledger?.counts.conflicts ?? 0), 0),
    ledgerUnavailable: instances.reduce((n, i) => n + (i.ledger?.counts.unavailable ?? 0), 0),
    clock: clock === undefined ? 'real' : 'virtual',
    realSeconds: round((Date.now() - realStart) / 1000, 1),
    cpuSeconds: round((process.cpuUsage(cpuStart).user + process.cpuUsage(cpuStart).system) / 1e6, 1),
    fetchRealMs,
    loopDelayP99Ms: round(loop.percentile(99) / 1e6, 1),
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
