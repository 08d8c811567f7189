/**
 * The shared slot ledger and the request-window pacing, as a user of the deployment would notice them: however many
 * instances send, the deployment's 1 s / 10 s request windows and its minute of tokens never refuse a request; a
 * stall never releases a burst; a broken ledger never stops the model calls; parked messages come back spread out.
 * Time is simulated (VirtualClock), so nothing here waits for real.
 */
import { describe, expect, it } from 'vitest';

import { MemorySlotStore } from '../../shared/throughput/MemorySlotStore';
import { QuotaPacer } from '../../shared/throughput/QuotaPacer';
import { SlotLedger } from '../../shared/throughput/SlotLedger';
import type { SlotStore } from '../../shared/throughput/SlotStore';
import { QuotaLedger } from '../support/fakeOpenAI/quotaLedger';
import { VirtualClock } from '../support/fakeOpenAI/quotaVirtualClock';

/** 30K TPM: 180 RPM, i.e. 3 requests in any 1 s and 30 in any 10 s; one image request counts about 274 tokens. */
const TPM = 30_000;
const TOKENS = 274;

/** A deterministic random source, so a failure reproduces. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1_664_525 + 1_013_904_223) >>> 0) / 2 ** 32);
}

/** The deployment's own bookkeeping (the fake's), fed the send times: every refusal is a 429 the user would see. */
function deployment(): { send: (at: number) => void; refused: number[] } {
  const quota = new QuotaLedger({ tokensPerMinute: TPM, requestsPerMinute: (TPM / 1000) * 6, requestWindowsMs: [1_000, 10_000], tokenWindowsMs: [60_000] });
  const refused: number[] = [];
  return {
    refused,
    send: (at) => {
      if (!quota.admit(TOKENS, at).admitted) refused.push(at);
    },
  };
}

/**
 * One simulated instance sending `n` requests through `pacer` the way pacedFetch does (acquire, wait, confirm or
 * reserve again); `stall()` adds a random delay before the wake-up is handled, like a busy event loop.
 */
async function sendAll(clock: VirtualClock, pacer: QuotaPacer, n: number, send: (at: number) => void, stall: () => number): Promise<number> {
  let sent = 0;
  for (let i = 0; i < n; i++) {
    for (;;) {
      const slot = await pacer.acquire(TOKENS, 3_600_000);
      if (slot.kind === 'park') throw new Error('parked with an hour of allowed wait');
      await clock.sleep(slot.waitMs + stall());
      if (!pacer.confirm(slot)) continue;
      send(clock.now());
      sent++;
      break;
    }
  }
  return sent;
}

describe('SlotLedger shared by many instances', () => {
  it('40 instances sharing a ledger never exceed the 1 s or 10 s request window or the minute of tokens, even with stalls', async () => {
    const clock = new VirtualClock(0);
    const random = seeded(7);
    const store = new MemorySlotStore(() => clock.sleep(10));
    const d = deployment();
    const pacers = Array.from({ length: 40 }, () => new QuotaPacer({ tokensPerMinute: TPM, maxInstances: 40, now: clock.now, sleep: clock.sleep, random, ledger: new SlotLedger(store, { now: clock.now, sleep: clock.sleep, random }) }));
    // Every instance stalls now and then for up to 3 s: the requests it held back must not go out together.
    const stall = (): number => (random() < 0.2 ? random() * 3_000 : 0);
    let done = false;
    const all = Promise.all(pacers.map((p) => sendAll(clock, p, 5, d.send, stall))).finally(() => (done = true));
    await Promise.all([all, clock.run(() => done, Date.now() + 20_000)]);
    const sent = await all;
    expect(sent.reduce((a, b) => a + b, 0)).toBe(200);
    expect(d.refused).toEqual([]);
    // And it keeps the deployment busy: 200 requests at 95 % of 30K TPM take 200 × 274 / 28,500 ≈ 1.92 min; the
    // slots the stalls forfeit cost some of that, not more than 30 %.
    expect(clock.now() / 60_000).toBeLessThan(2.5);
    expect(pacers.reduce((n, p) => n + p.snapshot().sharedSlots, 0)).toBeGreaterThanOrEqual(200);
  });

  it('without the ledger the same 40 instances, each pacing alone from the same start, collide in the 1 s window', async () => {
    // The contrast that motivates the ledger: unsynchronised instances at their fair share still bunch.
    const clock = new VirtualClock(0);
    const random = seeded(7);
    const d = deployment();
    const pacers = Array.from({ length: 40 }, () => new QuotaPacer({ tokensPerMinute: TPM, maxInstances: 40, now: clock.now, sleep: clock.sleep, random }));
    let done = false;
    const all = Promise.all(pacers.map((p) => sendAll(clock, p, 5, d.send, () => 0))).finally(() => (done = true));
    await Promise.all([all, clock.run(() => done, Date.now() + 20_000)]);
    expect(d.refused.length).toBeGreaterThan(0);
  });

  it('hands out disjoint, evenly spaced slots to concurrent instances, one conditional write per batch', async () => {
    const clock = new VirtualClock(0);
    const store = new MemorySlotStore(() => clock.sleep(5));
    const a = new SlotLedger(store, { now: clock.now, sleep: clock.sleep });
    const b = new SlotLedger(store, { now: clock.now, sleep: clock.sleep });
    let done = false;
    const grants = Promise.all([...Array.from({ length: 10 }, () => a.reserve(500, 60_000)), ...Array.from({ length: 10 }, () => b.reserve(500, 60_000))]).finally(() => (done = true));
    await Promise.all([grants, clock.run(() => done, Date.now() + 10_000)]);
    const at = (await grants).map((g) => (g.kind === 'send' ? g.at : Number.NaN)).sort((x, y) => x - y);
    for (let i = 1; i < at.length; i++) expect((at[i] ?? 0) - (at[i - 1] ?? 0)).toBeGreaterThanOrEqual(500);
    // Ten waiting requests of one instance go in one write, not ten.
    expect(store.calls.writes).toBeLessThanOrEqual(6);
  });

  it('says park without a write when the next free slot is further away than the caller may wait', async () => {
    const clock = new VirtualClock(0);
    const store = new MemorySlotStore(() => clock.sleep(5));
    const ledger = new SlotLedger(store, { now: clock.now, sleep: clock.sleep });
    let done = false;
    const run = (async () => {
      for (let i = 0; i < 4; i++) await ledger.reserve(1_000, 10_000);
      const writes = store.calls.writes;
      const g = await ledger.reserve(1_000, 1_000);
      return { g, extraWrites: store.calls.writes - writes };
    })().finally(() => (done = true));
    await Promise.all([run, clock.run(() => done, Date.now() + 10_000)]);
    const { g, extraWrites } = await run;
    expect(g.kind).toBe('park');
    expect(extraWrites).toBe(0);
  });
});

describe('QuotaPacer windows and stalls', () => {
  it('a stall does not release a burst: slots it made late are forfeited, and what follows is spaced again', () => {
    let now = 0;
    const p = new QuotaPacer({ tokensPerMinute: TPM, maxInstances: 1, utilisation: 0.95, now: () => now, random: () => 0 });
    // Five requests reserved one slot apart (≈ 0.69 s at 95 % of 30K TPM for 274 tokens)...
    const slots = Array.from({ length: 5 }, () => p.reserve(TOKENS, 60_000));
    // ...then the process stalls for 10 s and every wake-up runs at once.
    now = 10_000;
    const sendsAtOnce = slots.filter((s) => s.kind === 'send' && p.confirm({ kind: 'send', waitMs: s.waitMs, at: s.waitMs, tokens: TOKENS, shared: false })).length;
    expect(sendsAtOnce).toBe(0);
    expect(p.snapshot().forfeited).toBe(5);
    // Reserved again, they are spaced by the pacer's interval from now on: never more than 3 in any second.
    const again = Array.from({ length: 5 }, () => p.reserve(TOKENS, 60_000)).map((s) => (s.kind === 'send' ? s.waitMs : Number.NaN));
    for (let i = 1; i < again.length; i++) expect((again[i] ?? 0) - (again[i - 1] ?? 0)).toBeGreaterThan(333);
  });

  it('spaces requests by the 1 s request window when that binds before tokens do', () => {
    const now = 0;
    // 30K TPM allows 3 requests per second: 50-token requests would fit 9 per second by tokens alone.
    const p = new QuotaPacer({ tokensPerMinute: TPM, maxInstances: 1, utilisation: 0.95, now: () => now, random: () => 0 });
    const waits = Array.from({ length: 6 }, () => p.reserve(50, 60_000)).map((s) => s.waitMs);
    const d = deployment();
    for (const w of waits) d.send(w);
    expect(d.refused).toEqual([]);
    expect(waits[5]).toBeGreaterThanOrEqual(2_000);
  });

  it('keeps sending with local pacing when the ledger store fails: a ledger fault is not a model fault', async () => {
    const clock = new VirtualClock(0);
    const broken: SlotStore = {
      read: () => Promise.reject(new Error('storage unreachable')),
      write: () => Promise.reject(new Error('storage unreachable')),
    };
    const failures: unknown[] = [];
    const p = new QuotaPacer({ tokensPerMinute: TPM, maxInstances: 1, now: clock.now, sleep: clock.sleep, random: () => 0, ledger: new SlotLedger(broken, { now: clock.now, onFailure: (e) => failures.push(e) }) });
    const d = deployment();
    let done = false;
    const sent = sendAll(clock, p, 6, d.send, () => 0).finally(() => (done = true));
    await Promise.all([sent, clock.run(() => done, Date.now() + 10_000)]);
    expect(await sent).toBe(6);
    expect(d.refused).toEqual([]);
    expect(failures.length).toBe(1);
    expect(p.snapshot().localSlots).toBe(6);
  });

  it('spreads the return of messages parked together instead of making them all visible in the same second', () => {
    let r = 0;
    const random = (): number => (r = (r + 0.37) % 1);
    const p = new QuotaPacer({ tokensPerMinute: TPM, maxInstances: 40, now: () => 0, random });
    // Sixteen messages read the same backlog (the queue count lags), as a batch of a queue trigger does.
    const delays = Array.from({ length: 16 }, () => p.parkDelayMs(3_000, 100, TOKENS));
    const base = 100 * (TOKENS / ((0.95 * TPM) / 60_000));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(base);
    // Whole seconds, as the queue applies them: at least eight distinct seconds among sixteen messages.
    expect(new Set(delays.map((ms) => Math.ceil(ms / 1000))).size).toBeGreaterThanOrEqual(8);
  });
});
