/**
 * How far apart the deployment's requests must be, all instances together, so that evenly spaced sends stay inside
 * every window Azure enforces: TPM over a minute, RPM over 1 s and 10 s. Each request occupies a slot of
 * `durationMs(tokens)`; a slot may be used a little late (`lateToleranceMs`) but never early, and a slot used later
 * than that is forfeited, so a stall that delays many sends cannot release them together.
 */

export interface SlotSpacingOptions {
  tokensPerMinute: number;
  /** Default: 6 per 1,000 TPM. */
  requestsPerMinute?: number;
  /** Share of each allowance aimed at, (0, 1]. */
  utilisation: number;
  /** Length of a quota minute in ms (60,000; less when a benchmark compresses time). */
  minuteMs: number;
  /** The deployment's request windows in quota-minute units of 60,000 (default 1 s and 10 s). */
  requestWindowsMs?: readonly number[];
}

export interface SlotSpacing {
  /** Aggregate gap after a request of `tokens`, in ms: the larger of its token time and the request interval. */
  durationMs(tokens: number): number;
  /** Shortest gap between any two requests of the deployment (the binding request window), in ms. */
  readonly requestIntervalMs: number;
  /** Aimed-at tokens per ms over all instances. */
  readonly tokensPerMs: number;
  /**
   * How late a slot of `durationMs` may still be used: if every slot were that late, each window would still hold
   * (a window of w with allowance A holds (w + late) / d + 1 sends spaced d apart, which must stay ≤ A).
   */
  lateToleranceMs(durationMs: number, tokens: number): number;
}

export function slotSpacing(o: SlotSpacingOptions): SlotSpacing {
  const scale = o.minuteMs / 60_000;
  const rpm = o.requestsPerMinute ?? (o.tokensPerMinute / 1000) * 6;
  const windows = (o.requestWindowsMs ?? [1_000, 10_000]).map((w) => w * scale);
  // Each window admits floor(RPM × w / minute) requests; aim at utilisation of that, never fewer than one per window.
  const allowances = windows.map((w) => ({ w, allow: Math.floor((rpm * w) / o.minuteMs + 1e-9) }));
  const requestIntervalMs = Math.max(...allowances.map(({ w, allow }) => w / Math.max(1, Math.floor(allow * o.utilisation + 1e-9))));
  const tokensPerMs = (o.utilisation * o.tokensPerMinute) / o.minuteMs;
  return {
    requestIntervalMs,
    tokensPerMs,
    durationMs: (tokens) => Math.max(tokens / tokensPerMs, requestIntervalMs),
    lateToleranceMs(durationMs, tokens) {
      let late = durationMs;
      for (const { w, allow } of allowances) late = Math.min(late, (allow - 1) * durationMs - w);
      // Tokens: the minute holds (minute + late) / d + 1 requests of `tokens`, which must stay within TPM.
      late = Math.min(late, (o.tokensPerMinute / Math.max(1, tokens) - 1) * durationMs - o.minuteMs);
      return Math.max(0, late);
    },
  };
}
