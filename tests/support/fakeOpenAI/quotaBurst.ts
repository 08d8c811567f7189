/**
 * A burst of uploads against the fake deployment with a quota: `instances` simulated function instances, each with
 * its own QuotaPacer, openai client and `concurrency` worker loops, share one deployment. The model path is the
 * service's own (OpenAIClassifier → pacedFetch → SDK → the fake); what the pipeline does around it (claim, download,
 * store) is not simulated. Events come from an "Event Grid" backlog first; a throttled one is parked in an in-memory
 * stand-in for the Storage queue with the delay the service would give it, and drained by the same workers.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { isTransientError } from '../../../shared/errors';
import { createOpenAIClient, OpenAIClassifier } from '../../../shared/model';
import type { PreprocessedImage } from '../../../shared/preprocess/preprocessedImage';
import type { LabelProfile } from '../../../shared/profiles/profileSchema';
import { parkDelayMs } from '../../../shared/throughput/parkDelayMs';
import type { ParkingLot } from '../../../shared/throughput/ParkingLot';
import { QuotaPacer } from '../../../shared/throughput/QuotaPacer';
import type { FakeOpenAI } from './fakeOpenAIServer';

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
  /** Stop after this many real ms even if the backlog is not drained (reported as undrained). */
  giveUpAfterMs: number;
  utilisation?: number;
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
  /** Real-time event-loop delay p99 (ms): high values mean this machine, not the design, slowed the run. */
  loopDelayP99Ms: number;
}

interface Parked {
  visibleAt: number;
  id: number;
  parks: number;
}

/** The Storage queue's stand-in: messages invisible until their time (a min-heap), a count that includes invisible ones. */
class MemoryQueue implements ParkingLot<{ id: number; parks: number }> {
  private readonly heap: Parked[] = [];
  /** `secondMs`: one quota second in real ms; visibility timeouts are whole seconds, as in Azure Storage. */
  constructor(private readonly secondMs: number) {}
  async park(item: { id: number; parks: number }, delayMs: number): Promise<void> {
    // A queue write is I/O: yield, so a burst of parks never starves the timers.
    await new Promise((r) => setImmediate(r));
    this.heap.push({ ...item, visibleAt: Date.now() + Math.ceil(delayMs / this.secondMs) * this.secondMs });
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
  c.fake.reset();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();

  const queue = new MemoryQueue(1000 / k);
  let eventGrid = c.uploads;
  let answered = 0;
  let parks = 0;
  let lastAnswerAt = 0;
  const start = Date.now();
  const giveUpAt = start + c.giveUpAfterMs;

  type Instance = { classifier: OpenAIClassifier; pacer: QuotaPacer };
  const instance = (): Instance => {
    const pacer = new QuotaPacer({ tokensPerMinute: tpm, maxInstances: c.maxInstances, minuteMs, ...(c.utilisation === undefined ? {} : { utilisation: c.utilisation }) });
    const client = createOpenAIClient(
      { provider: 'azure-openai', endpoint: c.fake.url, deployment: c.fake.deployment, apiVersion: c.fake.apiVersion, apiKey: c.fake.apiKey },
      { timeoutMs: 20_000, maxRetries: 2, logprobs: false },
      { pacer: { pacer, maxWaitMs: c.maxWaitMs / k } },
    );
    const classifier = new OpenAIClassifier({
      client,
      info: { provider: 'azure-openai', deployment: c.fake.deployment, apiVersion: c.fake.apiVersion },
      model: c.fake.deployment,
      prices: {},
      logprobs: false,
    });
    return { classifier, pacer };
  };

  const tokensPerRequest = (): number => (gate.stats.admitted > 0 ? gate.stats.admittedTokens / gate.stats.admitted : 0);

  /** One event on one instance: the model call, or a park with the delay the service would give it. */
  const handle = async (inst: Instance, item: { id: number; parks: number }): Promise<void> => {
    try {
      await inst.classifier.classify({ image: c.image, profile: c.profile });
      answered++;
      lastAnswerAt = Date.now();
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
    while (answered < c.uploads && Date.now() < giveUpAt) {
      if (running.size >= c.concurrency) {
        await Promise.race(running);
        continue;
      }
      let item: { id: number; parks: number } | undefined;
      if (eventGrid > 0) item = { id: eventGrid--, parks: 0 };
      else {
        const got = queue.take(Date.now());
        if ('id' in got) item = got;
        else {
          const poll = c.pollMs / k;
          const untilNext = got.nextAt === undefined ? poll : Math.min(poll, got.nextAt - Date.now());
          await (running.size > 0 ? Promise.race([sleep(untilNext), ...running]) : sleep(untilNext));
          continue;
        }
      }
      const p: Promise<void> = handle(inst, item).finally(() => running.delete(p));
      running.add(p);
      // Receiving a message is I/O too.
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(running);
  };

  const instances = Array.from({ length: c.instances }, instance);
  await Promise.all(instances.map(run));
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
    loopDelayP99Ms: round(loop.percentile(99) / 1e6, 1),
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
