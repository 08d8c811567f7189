/**
 * Paces one instance's model requests so that all instances sharing a deployment stay under its quota without 429
 * storms. Each request is scheduled on a token bucket (GCRA: one request's tokens at a time, no burst) at this
 * instance's rate; the rate follows the deployment's own answers:
 * - `x-ratelimit-remaining-tokens` says how much of the minute the whole deployment has used (every instance's
 *   requests), so this instance's share of the deployment's traffic is (its tokens in the last minute) / (the
 *   deployment's). Every instance sets its rate to its share of `utilisation × TPM`: the shares add up to one, so
 *   the instances together converge on the target in a few answers, whatever their number and without talking to
 *   each other;
 * - a 429 pauses the instance for `retry-after-ms` and cuts its rate;
 * - the rate never falls below the fair share at the largest instance count (`utilisation × TPM / maxInstances`),
 *   so a fresh instance starts where 40 busy ones would be and nobody starves.
 * A request that would wait longer than the caller can afford is not sent: `reserve` says to park it; `parkDelayMs`
 * then levels its return on the deployment's whole backlog (the parking queue's length), not on this instance's.
 *
 * Requests are spaced by the request windows as well as by tokens (slotSpacing: RPM over 1 s and 10 s), and a slot
 * is only good for a short while: `confirm` refuses one whose time passed more than the windows can absorb (after an
 * event-loop stall, say), so the requests a stall held back go out one slot apart again, never together.
 *
 * With a SlotLedger (`acquire`), every instance takes its slots from the same shared schedule, so the deployment sees
 * all instances' requests evenly spaced at the aggregate rate; the share-learning bucket above is the fallback
 * whenever the ledger is unavailable.
 */
import type { SlotLedger } from './SlotLedger';
import type { SlotSpacing } from './slotSpacing';
import { slotSpacing } from './slotSpacing';

export interface QuotaPacerOptions {
  /** The deployment's tokens per minute (MODEL_TPM). */
  tokensPerMinute: number;
  /** Default: 6 per 1,000 TPM (Azure's ratio for GPT-4o-class models). */
  requestsPerMinute?: number;
  /** Most instances that may share the deployment (the app's maximum instance count). */
  maxInstances: number;
  /** Share of the quota aimed at, (0, 1]; default 0.95: the margin absorbs estimate errors and unsynchronised sends. */
  utilisation?: number;
  /** Length of a quota minute in ms: 60,000 in production; shorter when a benchmark compresses time. */
  minuteMs?: number;
  now?: () => number;
  random?: () => number;
  /** The deployment's request windows (uncompressed ms); default 1 s and 10 s. */
  requestWindowsMs?: readonly number[];
  /** Shared send schedule of all instances; without one (or while it is unreachable) the pacer paces alone. */
  ledger?: SlotLedger;
  /** Waits on the same clock as `now` (a simulation's clock); default: a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** A slot to send in: `at` on this pacer's clock; `shared` when it came from the ledger. */
export interface Slot {
  kind: 'send';
  waitMs: number;
  at: number;
  tokens: number;
  shared: boolean;
}

export type Reservation = { kind: 'send'; waitMs: number } | { kind: 'park'; waitMs: number };

export interface Observation {
  /** The estimate reserved for this request. */
  tokens: number;
  /** When it was sent (this clock). */
  sentAt: number;
  status: number;
  retryAfterMs?: number | undefined;
  remainingTokens?: number | undefined;
  remainingRequests?: number | undefined;
}

export interface PacerSnapshot {
  /** Tokens per minute this instance currently sends at most. */
  tokensPerMinute: number;
  sent: number;
  throttled: number;
  parked: number;
  /** Slots given up because they came too late to use (a stall), and reserved again. */
  forfeited: number;
  /** Slots taken from the shared ledger, and taken locally (no ledger, or it was unavailable). */
  sharedSlots: number;
  localSlots: number;
}

/** How far each answer moves the rate towards its target (higher reacts faster, lower is steadier). */
const GAIN = 0.5;
/** How many slots a parked message's return is spread over. */
const JITTER_SLOTS = 16;
/** Rate cut on a 429. */
const THROTTLE_CUT = 0.8;

export class QuotaPacer {
  private readonly minuteMs: number;
  private readonly capPerMs: number;
  private readonly floorPerMs: number;
  private readonly now: () => number;
  private ratePerMs: number;
  private nextAt = 0;
  private pausedUntil = 0;
  /** The last reservation, so a rate change can move the next free time. */
  private last: { at: number; tokens: number } | undefined;
  private readonly random: () => number;
  /** This instance's admitted requests in the last quota minute, oldest first. */
  private readonly own: { at: number; tokens: number }[] = [];
  private ownTokens = 0;
  private readonly counts = { sent: 0, throttled: 0, parked: 0, forfeited: 0, sharedSlots: 0, localSlots: 0 };
  private readonly spacing: SlotSpacing;
  private readonly ledger: SlotLedger | undefined;
  /** Tokens of the last request reserved: prices a parked backlog before any answer came back. */
  private lastTokens = 0;
  /** The wait for a slot, when the clock is not the real one. */
  readonly sleep: ((ms: number) => Promise<void>) | undefined;

  constructor(private readonly o: QuotaPacerOptions) {
    if (!(o.tokensPerMinute > 0)) throw new RangeError('QuotaPacer: tokensPerMinute must be positive');
    if (!(o.maxInstances >= 1)) throw new RangeError('QuotaPacer: maxInstances must be at least 1');
    const u = o.utilisation ?? 0.95;
    if (!(u > 0 && u <= 1)) throw new RangeError('QuotaPacer: utilisation must be in (0, 1]');
    this.minuteMs = o.minuteMs ?? 60_000;
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
    this.capPerMs = (u * o.tokensPerMinute) / this.minuteMs;
    this.floorPerMs = this.capPerMs / o.maxInstances;
    this.ratePerMs = this.floorPerMs;
    this.spacing = slotSpacing({
      tokensPerMinute: o.tokensPerMinute,
      ...(o.requestsPerMinute === undefined ? {} : { requestsPerMinute: o.requestsPerMinute }),
      utilisation: u,
      minuteMs: this.minuteMs,
      ...(o.requestWindowsMs === undefined ? {} : { requestWindowsMs: o.requestWindowsMs }),
    });
    this.ledger = o.ledger;
    this.sleep = o.sleep;
  }

  /**
   * The slot for a request: from the shared ledger when there is one and it answers, else from this instance's own
   * bucket. Never throws for a ledger fault: the local bucket is always there.
   */
  async acquire(tokens: number, maxWaitMs: number): Promise<Slot | { kind: 'park'; waitMs: number }> {
    this.lastTokens = tokens;
    const ledger = this.ledger;
    if (ledger?.available() === true) {
      const paused = Math.max(0, this.pausedUntil - this.now());
      const grant = paused > maxWaitMs ? ({ kind: 'park', at: this.pausedUntil } as const) : await ledger.reserve(this.spacing.durationMs(tokens), maxWaitMs - paused);
      const now = this.now();
      if (grant.kind === 'park') {
        this.counts.parked++;
        return { kind: 'park', waitMs: Math.ceil(Math.max(grant.at, this.pausedUntil) - now) };
      }
      if (grant.kind === 'send') {
        this.counts.sent++;
        this.counts.sharedSlots++;
        const at = Math.max(grant.at, this.pausedUntil);
        return { kind: 'send', waitMs: Math.max(0, at - now), at, tokens, shared: true };
      }
    }
    const r = this.reserve(tokens, maxWaitMs);
    if (r.kind === 'park') return r;
    this.counts.localSlots++;
    return { kind: 'send', waitMs: r.waitMs, at: this.now() + r.waitMs, tokens, shared: false };
  }

  /**
   * Called when the wait for `slot` is over, just before sending: false when it is now too late to use (the slot is
   * forfeited and the caller reserves again). Sending late slots would bunch every request a stall held back.
   */
  confirm(slot: Slot): boolean {
    const late = this.now() - slot.at;
    if (late <= this.spacing.lateToleranceMs(this.spacing.durationMs(slot.tokens), slot.tokens)) return true;
    this.counts.forfeited++;
    return false;
  }

  /** Schedules a request of `tokens` (the arrival-time estimate): send after `waitMs`, or park when that exceeds `maxWaitMs`. */
  reserve(tokens: number, maxWaitMs: number): Reservation {
    const now = this.now();
    // A fresh instance starts at a random point of one fair-share interval: instances started together by a burst
    // do not all send their first request in the same second (the RPM windows would refuse most of them).
    if (this.last === undefined && this.nextAt === 0) this.nextAt = now + this.random() * (tokens / this.floorPerMs);
    const start = Math.max(now, this.nextAt, this.pausedUntil);
    if (start - now > maxWaitMs) {
      this.counts.parked++;
      return { kind: 'park', waitMs: Math.ceil(start - now) };
    }
    this.lastTokens = tokens;
    this.nextAt = start + this.gapMs(tokens, this.ratePerMs);
    this.last = { at: start, tokens };
    this.counts.sent++;
    return { kind: 'send', waitMs: start - now };
  }

  /**
   * How long to park a request that `reserve` refused: until the deployment, at the target rate, has served the
   * backlog parked ahead of it (every instance's: the parking queue's length, `backlogMessages`, each occupying one
   * slot of `tokensPerRequest`), and never before this instance could send it. Then spread at random over the next
   * JITTER_SLOTS slots (at least two quota seconds, the queue's delays being whole seconds): messages parked
   * together, which read the same backlog, come back one by one instead of all at once.
   */
  parkDelayMs(waitMs: number, backlogMessages: number, tokensPerRequest: number): number {
    const slot = this.spacing.durationMs(tokensPerRequest > 0 ? tokensPerRequest : this.averageTokens());
    const base = Math.max(waitMs, backlogMessages * slot, this.pausedUntil - this.now());
    const spread = Math.max((2 * this.minuteMs) / 60, JITTER_SLOTS * slot);
    return Math.ceil(base + this.random() * spread);
  }

  /** Learns from the deployment's answer to a request this pacer scheduled. */
  observe(ob: Observation): void {
    const now = this.now();
    if (ob.status === 429) {
      this.counts.throttled++;
      const wait = ob.retryAfterMs ?? this.minuteMs / 60;
      this.pausedUntil = Math.max(this.pausedUntil, now + wait);
      // Every instance should hold off, not only this one: the deployment's windows are shared.
      this.ledger?.hold(this.pausedUntil);
      this.setRate(Math.max(this.floorPerMs, this.ratePerMs * THROTTLE_CUT));
      return;
    }
    if (ob.status >= 400) return;
    this.own.push({ at: ob.sentAt, tokens: ob.tokens });
    this.ownTokens += ob.tokens;
    while (this.own.length > 0 && (this.own[0]?.at ?? now) <= now - this.minuteMs) this.ownTokens -= this.own.shift()?.tokens ?? 0;
    if (ob.remainingTokens === undefined) return;
    const deploymentTokens = Math.max(this.ownTokens, this.o.tokensPerMinute - ob.remainingTokens);
    // Half of this request on both sides: it is counted in both windows at their very end, and counting it whole
    // would overstate a small instance's share.
    const share = Math.min(1, Math.max(0, (this.ownTokens - ob.tokens / 2) / Math.max(1, deploymentTokens - ob.tokens / 2)));
    const target = Math.min(this.capPerMs, Math.max(this.floorPerMs, share * this.capPerMs));
    this.setRate(this.ratePerMs + GAIN * (target - this.ratePerMs));
  }

  /** A new rate also moves the next free time: the gap after the last reservation is re-measured at the new rate. */
  private setRate(perMs: number): void {
    this.ratePerMs = perMs;
    if (this.last !== undefined) this.nextAt = this.last.at + this.gapMs(this.last.tokens, perMs);
  }

  /** This instance's gap after a request: its token time at its rate, or its share of the request interval if longer. */
  private gapMs(tokens: number, perMs: number): number {
    return Math.max(tokens / perMs, (this.spacing.requestIntervalMs * this.capPerMs) / perMs);
  }

  /** Mean estimate of the requests answered in the last minute (before any: the last one reserved): prices a parked backlog. */
  averageTokens(): number {
    return this.own.length === 0 ? this.lastTokens : this.ownTokens / this.own.length;
  }

  /** Aggregate ms one request of `tokens` occupies at the target rate (all instances together). */
  slotMs(tokens: number): number {
    return this.spacing.durationMs(tokens);
  }

  snapshot(): PacerSnapshot {
    return { tokensPerMinute: Math.round(this.ratePerMs * this.minuteMs), ...this.counts };
  }
}
