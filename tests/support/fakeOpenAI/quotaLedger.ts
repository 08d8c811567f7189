/**
 * The deployment's quota bookkeeping: every admitted request's estimated tokens checked against TPM over a sliding
 * minute (Azure: "added to a running count reset each minute"; sliding is the stricter reading, no double burst at a
 * minute boundary), and its count against RPM over short sliding windows (Azure: "evaluated over a small period of
 * time, typically 1 or 10 seconds"). Times are quota time (already de-compressed by the caller).
 */

export interface QuotaLedgerOptions {
  tokensPerMinute: number;
  requestsPerMinute: number;
  /** Request-count windows in quota milliseconds; each allows RPM × window / 1 min. */
  requestWindowsMs: readonly number[];
  /** Token windows in quota milliseconds; each allows TPM × window / 1 min. */
  tokenWindowsMs: readonly number[];
}

export type Admission =
  | { admitted: true; remainingTokens: number; remainingRequests: number }
  | { admitted: false; retryAfterMs: number; remainingTokens: number; remainingRequests: number; limit: 'tokens' | 'requests' };

interface Entry {
  at: number;
  tokens: number;
}

const MINUTE_MS = 60_000;
/** `x-ratelimit-remaining-requests` as observed: a counter per 10-second window of RPM/6 (CONTRACTS.md (d)). */
const REQUEST_HEADER_WINDOW_MS = 10_000;

export class QuotaLedger {
  private readonly entries: Entry[] = [];
  private head = 0;
  private readonly horizonMs: number;

  constructor(private readonly o: QuotaLedgerOptions) {
    if (o.requestWindowsMs.length + o.tokenWindowsMs.length === 0) throw new Error('a quota needs at least one enforcement window');
    this.horizonMs = Math.max(MINUTE_MS, ...o.requestWindowsMs, ...o.tokenWindowsMs);
  }

  /**
   * Admits a request of `tokens` (the arrival-time estimate) at `now`, or says how long until it would be. A window
   * with nothing in it admits any one request, so a request larger than a short window's share still gets through
   * (a 30K-TPM deployment allows 500 tokens per second; one image request is ~600).
   */
  admit(tokens: number, now: number): Admission {
    this.prune(now);
    let wait = 0;
    let limit: 'tokens' | 'requests' = 'tokens';
    for (const w of this.o.tokenWindowsMs) {
      const allowance = (this.o.tokensPerMinute * w) / MINUTE_MS;
      const t = this.waitFor(now, w, (used, count) => count === 0 || used + tokens <= allowance);
      if (t > wait) {
        wait = t;
        limit = 'tokens';
      }
    }
    for (const w of this.o.requestWindowsMs) {
      const allowance = (this.o.requestsPerMinute * w) / MINUTE_MS;
      const r = this.waitFor(now, w, (_used, count) => count === 0 || count + 1 <= allowance);
      if (r > wait) {
        wait = r;
        limit = 'requests';
      }
    }
    if (wait > 0) return { admitted: false, retryAfterMs: wait, limit, ...this.remaining(now) };
    this.entries.push({ at: now, tokens });
    return { admitted: true, ...this.remaining(now) };
  }

  /** Tokens left in the last minute (observed to start at TPM) and requests left in the last 10 s (observed RPM/6). */
  remaining(now: number): { remainingTokens: number; remainingRequests: number } {
    let tokens = 0;
    let requests = 0;
    for (let i = this.entries.length - 1; i >= this.head; i--) {
      const e = this.entries[i] as Entry;
      if (e.at <= now - MINUTE_MS) break;
      tokens += e.tokens;
      if (e.at > now - REQUEST_HEADER_WINDOW_MS) requests++;
    }
    return {
      remainingTokens: Math.max(0, Math.floor(this.o.tokensPerMinute - tokens)),
      remainingRequests: Math.max(0, Math.floor((this.o.requestsPerMinute * REQUEST_HEADER_WINDOW_MS) / MINUTE_MS - requests)),
    };
  }

  /**
   * How long until `fits(used, count)` holds for the window of length `w` ending then: walk the window's entries
   * oldest first, letting each expire in turn. 0 when it fits now.
   */
  private waitFor(now: number, w: number, fits: (used: number, count: number) => boolean): number {
    let start = this.entries.length;
    let used = 0;
    while (start > this.head && (this.entries[start - 1] as Entry).at > now - w) {
      start--;
      used += (this.entries[start] as Entry).tokens;
    }
    let count = this.entries.length - start;
    if (fits(used, count)) return 0;
    for (let i = start; i < this.entries.length; i++) {
      const e = this.entries[i] as Entry;
      used -= e.tokens;
      count--;
      if (fits(used, count)) return e.at + w - now;
    }
    return w;
  }

  private prune(now: number): void {
    while (this.head < this.entries.length && (this.entries[this.head] as Entry).at <= now - this.horizonMs) this.head++;
    // Compact now and then so a long run does not keep every entry.
    if (this.head > 4096 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }
}
