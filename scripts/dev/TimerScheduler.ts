/** Runs the function table's timer functions on their NCRONTAB schedules (UTC), one run at a time each, as the host does. */
import type { Services, TimerFunctionDefinition } from '../../shared/runtime';
import { functionLogger } from './devHost';
import type { Schedule } from './ncrontab';
import { parseNcrontab } from './ncrontab';

export interface TimerSchedulerOptions {
  timers: readonly TimerFunctionDefinition[];
  services: Services;
  log?: (line: string) => void;
  /** How long stop() waits for a run in progress, ms. Default 10 000. */
  stopTimeoutMs?: number;
}

interface Timer {
  def: TimerFunctionDefinition;
  schedule: Schedule;
  timeout: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  nextAt: Date | undefined;
}

export class TimerScheduler {
  private readonly timers: Timer[];
  private readonly log: (line: string) => void;
  private stopped = false;

  /** Parses every schedule first, so a bad one fails the start instead of never firing. */
  constructor(private readonly o: TimerSchedulerOptions) {
    this.log = o.log ?? (() => undefined);
    this.timers = o.timers.map((def) => ({ def, schedule: parseNcrontab(def.schedule), timeout: undefined, running: undefined, nextAt: undefined }));
  }

  start(): void {
    for (const t of this.timers) this.arm(t);
  }

  /** When each timer fires next. */
  get upcoming(): Array<{ name: string; schedule: string; nextAt: Date | undefined }> {
    return this.timers.map((t) => ({ name: t.def.name, schedule: t.def.schedule, nextAt: t.nextAt }));
  }

  /**
   * Runs a timer function now (the host's admin "run function" endpoint); resolves when it is done. A run already
   * in progress is joined rather than started twice.
   */
  runNow(name: string): Promise<void> | undefined {
    const t = this.timers.find((x) => x.def.name.toLowerCase() === name.toLowerCase());
    return t === undefined ? undefined : this.run(t);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t.timeout);
    let timer: NodeJS.Timeout | undefined;
    const running = this.timers.flatMap((t) => (t.running === undefined ? [] : [t.running]));
    await Promise.race([Promise.allSettled(running), new Promise((resolve) => (timer = setTimeout(resolve, this.o.stopTimeoutMs ?? 10_000)))]);
    clearTimeout(timer);
  }

  private arm(t: Timer): void {
    if (this.stopped) return;
    const next = t.schedule.next(new Date());
    t.nextAt = next;
    // setTimeout holds at most ~24.8 days; re-arm on waking when the firing is further away.
    const delay = Math.min(next.getTime() - Date.now(), 2 ** 31 - 1);
    t.timeout = setTimeout(() => {
      if (Date.now() + 1000 < next.getTime()) return this.arm(t);
      void this.run(t).finally(() => this.arm(t));
    }, Math.max(0, delay));
  }

  private run(t: Timer): Promise<void> {
    t.running ??= (async () => {
      const started = performance.now();
      const logger = functionLogger(t.def.name, this.log);
      try {
        await t.def.handler(logger, this.o.services);
        this.log(`${t.def.name} (timer) done in ${Math.round(performance.now() - started)} ms`);
      } catch (e) {
        this.log(`${t.def.name} (timer) failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      } finally {
        t.running = undefined;
      }
    })();
    return t.running;
  }
}
