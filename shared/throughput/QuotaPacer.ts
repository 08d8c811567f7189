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
 */

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
}

/** How far each answer moves the rate towards its target (higher reacts faster, lower is steadier). */
const GAIN = 0.5;
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
  private readonly counts = { sent: 0, throttled: 0, parked: 0 };

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
    this.nextAt = start + tokens / this.ratePerMs;
    this.last = { at: start, tokens };
    this.counts.sent++;
    return { kind: 'send', waitMs: start - now };
  }

  /**
   * How long to park a request that `reserve` refused: until the deployment, at the target utilisation, has served the
   * backlog parked ahead of it (every instance's, e.g. the parking queue's length × tokens per request), and never
   * before this instance could send it.
   */
  parkDelayMs(waitMs: number, backlogTokens: number): number {
    return Math.ceil(Math.max(waitMs, backlogTokens / this.capPerMs, this.pausedUntil - this.now()));
  }

  /** Learns from the deployment's answer to a request this pacer scheduled. */
  observe(ob: Observation): void {
    const now = this.now();
    if (ob.status === 429) {
      this.counts.throttled++;
      const wait = ob.retryAfterMs ?? this.minuteMs / 60;
      this.pausedUntil = Math.max(this.pausedUntil, now + wait);
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
    if (this.last !== undefined) this.nextAt = this.last.at + this.last.tokens / perMs;
  }

  /** Mean estimate of the requests reserved in the last minute (0 before any): prices a parked backlog. */
  averageTokens(): number {
    return this.own.length === 0 ? 0 : this.ownTokens / this.own.length;
  }

  snapshot(): PacerSnapshot {
    return { tokensPerMinute: Math.round(this.ratePerMs * this.minuteMs), ...this.counts };
  }
}
