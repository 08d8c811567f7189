/**
 * Send times shared by every instance of the app: each model request reserves the slot
 * `t = max(now, nextFreeAt)` and moves `nextFreeAt` to `t + duration` with one conditional write on a small shared
 * document (SlotStore), so the deployment sees the requests of all instances evenly spaced however many there are.
 * Requests waiting in one instance are reserved together in one write (at most one write in flight per instance),
 * which keeps the document's write rate near the instance count, not the request rate.
 *
 * The ledger is an optimisation, never a dependency: when the store fails or conflicts too often it answers
 * 'unavailable' and the caller paces locally (QuotaPacer's own bucket); after a failure it is left alone for
 * `cooldownMs`. It never throws to the caller.
 */
import type { SlotStore, VersionedSlotState } from './SlotStore';

export type SlotGrant = { kind: 'send'; at: number } | { kind: 'park'; at: number } | { kind: 'unavailable' };

export interface SlotLedgerOptions {
  now?: () => number;
  random?: () => number;
  /** Conditional writes tried per batch before it is answered 'unavailable'; default 16. */
  maxAttempts?: number;
  /** Longest random pause after a conflict, in ms (doubles per attempt, capped at 8×); default 4. */
  conflictBackoffMs?: number;
  /** How long the ledger is bypassed after a store failure, in ms; default 10,000. */
  cooldownMs?: number;
  onFailure?: (error: unknown) => void;
  /** Waits on the same clock as `now`; default: a timer. */
  sleep?: (ms: number) => Promise<void>;
}

interface Pending {
  durationMs: number;
  maxWaitMs: number;
  resolve: (g: SlotGrant) => void;
}

export interface SlotLedgerCounts {
  reservations: number;
  writes: number;
  conflicts: number;
  failures: number;
  unavailable: number;
}

export class SlotLedger {
  private readonly now: () => number;
  private readonly random: () => number;
  private cached: VersionedSlotState | undefined;
  private pending: Pending[] = [];
  private holdUntil = 0;
  /** A hold not yet written. */
  private holdPending = false;
  private flushing = false;
  private downUntil = 0;
  /** Smoothed write round trip: a slot is never handed out closer than this to now, or it would arrive late. */
  private rttMs = 0;
  readonly counts: SlotLedgerCounts = { reservations: 0, writes: 0, conflicts: 0, failures: 0, unavailable: 0 };

  constructor(
    private readonly store: SlotStore,
    private readonly o: SlotLedgerOptions = {},
  ) {
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
  }

  available(): boolean {
    return this.now() >= this.downUntil;
  }

  /** A slot for a request occupying `durationMs`, or 'park' (at: the earliest it could go) when that is more than `maxWaitMs` away. */
  reserve(durationMs: number, maxWaitMs: number): Promise<SlotGrant> {
    if (!this.available()) {
      this.counts.unavailable++;
      return Promise.resolve({ kind: 'unavailable' });
    }
    // `nextFreeAt` only grows, so a cached value already too far away means park, without a round trip.
    const known = Math.max(this.cached?.state.nextFreeAt ?? 0, this.holdUntil);
    if (known - this.now() > maxWaitMs) return Promise.resolve({ kind: 'park', at: known });
    return new Promise((resolve) => {
      this.pending.push({ durationMs, maxWaitMs, resolve });
      void this.flush();
    });
  }

  /** After a 429 with retry-after: no instance gets a slot before `until` (best effort; a failure is ignored). */
  hold(until: number): void {
    if (!this.available() || until <= this.holdUntil) return;
    this.holdUntil = until;
    this.holdPending = true;
    void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0 || this.holdPending) {
        this.holdPending = false;
        await this.commit(this.pending.splice(0));
      }
    } finally {
      this.flushing = false;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    const answer = (grants: SlotGrant[]): void => batch.forEach((p, i) => p.resolve(grants[i] ?? { kind: 'unavailable' }));
    const unavailable = (): void => {
      this.counts.unavailable += batch.length;
      answer(batch.map(() => ({ kind: 'unavailable' })));
    };
    const maxAttempts = this.o.maxAttempts ?? 16;
    try {
      for (let attempt = 0; attempt < maxAttempts; attempt++) {
        const base = this.cached ?? (await this.store.read());
        const now = this.now();
        let t = Math.max(now + this.rttMs, base?.state.nextFreeAt ?? 0, this.holdUntil);
        const grants: SlotGrant[] = batch.map((p) => {
          if (t - now > p.maxWaitMs) return { kind: 'park', at: t };
          const g: SlotGrant = { kind: 'send', at: t };
          t += p.durationMs;
          return g;
        });
        const known = base?.state.nextFreeAt ?? 0;
        if (t <= known || (batch.length === 0 && this.holdUntil <= known)) {
          answer(grants);
          return;
        }
        this.counts.writes++;
        const sentAt = this.now();
        const r = await this.store.write({ v: 1, nextFreeAt: t }, base?.etag);
        this.rttMs = 0.8 * this.rttMs + 0.2 * (this.now() - sentAt);
        if (r === 'conflict') {
          // Another instance reserved first: read its state and try again, after a short random pause so the
          // instances that lost together do not collide again together.
          this.counts.conflicts++;
          this.cached = undefined;
          const backoff = (this.o.conflictBackoffMs ?? 4) * Math.min(8, 2 ** attempt) * this.random();
          await (this.o.sleep?.(backoff) ?? new Promise((resolve) => (backoff >= 1 ? setTimeout(resolve, backoff) : setImmediate(resolve))));
          continue;
        }
        this.cached = { state: { v: 1, nextFreeAt: t }, etag: r.etag };
        this.counts.reservations += grants.filter((g) => g.kind === 'send').length;
        // The delay of the round trip may have eaten into the first slots: they are still valid (the caller
        // forfeits one that has become too late), and later reservations start after them.
        answer(grants);
        return;
      }
      unavailable();
    } catch (e) {
      this.counts.failures++;
      this.cached = undefined;
      this.downUntil = this.now() + (this.o.cooldownMs ?? 10_000);
      this.o.onFailure?.(e);
      unavailable();
    }
  }
}
