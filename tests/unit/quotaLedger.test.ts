import { describe, expect, it } from 'vitest';

import { QuotaLedger } from '../support/fakeOpenAI/quotaLedger';

// 30K TPM → 180 RPM: 3 requests per second, 30 per 10 s, 30,000 tokens per sliding minute.
const ledger = (): QuotaLedger => new QuotaLedger({ tokensPerMinute: 30_000, requestsPerMinute: 180, requestWindowsMs: [1_000, 10_000], tokenWindowsMs: [60_000] });

describe('the fake deployment’s quota ledger', () => {
  it('admits a minute’s tokens, then refuses until the oldest request leaves the minute, saying how long that is', () => {
    const l = ledger();
    // 50 requests of 600 tokens, 400 ms apart (inside the 1 s and 10 s request windows).
    for (let i = 0; i < 50; i++) expect(l.admit(600, i * 400).admitted).toBe(true);
    const refused = l.admit(600, 20_000);
    expect(refused).toMatchObject({ admitted: false, limit: 'tokens', remainingTokens: 0 });
    // The first request (at 0) leaves the sliding minute at 60 s.
    if (refused.admitted) throw new Error('unreachable');
    expect(refused.retryAfterMs).toBe(40_000);
    expect(l.admit(600, 60_000).admitted).toBe(true);
  });

  it('refuses a fourth request in one second (RPM over 1 s) and reports the requests left in the 10 s window', () => {
    const l = ledger();
    const first = l.admit(100, 0);
    expect(first).toMatchObject({ admitted: true, remainingRequests: 29, remainingTokens: 29_900 });
    l.admit(100, 10);
    l.admit(100, 20);
    const fourth = l.admit(100, 30);
    expect(fourth).toMatchObject({ admitted: false, limit: 'requests', retryAfterMs: 970 });
  });

  it('admits one request larger than a window’s whole allowance when that window is empty', () => {
    const l = new QuotaLedger({ tokensPerMinute: 1_000, requestsPerMinute: 6, requestWindowsMs: [10_000], tokenWindowsMs: [60_000] });
    expect(l.admit(5_000, 0).admitted).toBe(true);
    expect(l.admit(10, 30_000).admitted).toBe(false);
    expect(l.admit(10, 60_001).admitted).toBe(true);
  });
});
