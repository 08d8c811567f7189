/**
 * A simulated clock for the burst benchmark: time moves only when every simulated instance and the fake deployment
 * are waiting on it (a sleep), never while real work (an HTTP round trip to the fake, a queue write) is in flight.
 * The fake's quota windows, latencies, the pacers and the ledger all read it, so a run measures the design and not
 * this machine's load: on a loaded 2-core host, real time compressed 60× turns a 10 ms event-loop stall into
 * 0.6 quota seconds, more than the 1 s RPM window can absorb.
 */

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

export class VirtualClock {
  private t: number;
  private seq = 0;
  private readonly heap: Timer[] = [];
  private busy = 0;
  /** Advances made, for the report. */
  steps = 0;

  constructor(start = Date.now()) {
    this.t = start;
  }

  readonly now = (): number => this.t;

  /** Resolves once the simulated clock reaches now + ms. */
  readonly sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (this.stopped) resolve();
      else this.push({ at: this.t + Math.max(0, Number.isFinite(ms) ? ms : 0), seq: this.seq++, resolve });
    });

  private stopped = false;

  /** Real work: the clock stands still until it settles. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /** A sleep inside tracked work (the fake deployment's latency while the client's request is tracked). */
  async idle(ms: number): Promise<void> {
    this.release();
    try {
      await this.sleep(ms);
    } finally {
      this.busy++;
    }
  }

  private quiet: (() => void) | undefined;

  private release(): void {
    this.busy--;
    if (this.busy === 0) {
      const wake = this.quiet;
      this.quiet = undefined;
      wake?.();
    }
  }

  /**
   * Drives the clock until `done()` or `realDeadline` (Date.now): let real work settle, then jump to the earliest
   * timer and wake everything due then. Stops early when nothing is busy and nothing waits (a deadlock).
   */
  async run(done: () => boolean, realDeadline: number): Promise<void> {
    while (!done() && Date.now() < realDeadline) {
      await new Promise((r) => setImmediate(r));
      if (this.busy > 0) {
        // Real I/O in flight: wait until it settles (or a second passes, in case something forgot to say so).
        await new Promise<void>((r) => {
          const t = setTimeout(r, 1_000);
          this.quiet = () => {
            clearTimeout(t);
            r();
          };
        });
        continue;
      }
      const first = this.heap[0];
      if (first === undefined) break;
      this.t = Math.max(this.t, first.at);
      this.steps++;
      while (this.heap.length > 0 && (this.heap[0] as Timer).at <= this.t) this.pop().resolve();
    }
    // Done or out of real time: wake every sleeper now and from now on, so whoever waits can see it and stop.
    this.stopped = true;
    while (this.heap.length > 0) this.pop().resolve();
  }

  private push(x: Timer): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i] as Timer, h[p] as Timer)) break;
      [h[p], h[i]] = [h[i] as Timer, h[p] as Timer];
      i = p;
    }
  }

  private pop(): Timer {
    const h = this.heap;
    const top = h[0] as Timer;
    const last = h.pop() as Timer;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l] as Timer, h[m] as Timer)) m = l;
        if (r < h.length && before(h[r] as Timer, h[m] as Timer)) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i] as Timer, h[m] as Timer];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
