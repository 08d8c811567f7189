/** Timer functions in the dev host: NCRONTAB schedules (UTC), runs that never overlap, and the admin "run now" endpoint. */
import { afterEach, describe, expect, it } from 'vitest';

import type { DevHost } from '../../scripts/dev/devHost';
import { startDevHost } from '../../scripts/dev/devHost';
import { parseNcrontab } from '../../scripts/dev/ncrontab';
import { TimerScheduler } from '../../scripts/dev/TimerScheduler';
import type { Services, TimerFunctionDefinition } from '../../shared/runtime';

const at = (iso: string): Date => new Date(iso);
const next = (expr: string, after: string): string => parseNcrontab(expr).next(at(after)).toISOString();

describe('NCRONTAB schedules', () => {
  it('fires every five minutes on the minute, strictly after the given time', () => {
    expect(next('0 */5 * * * *', '2026-01-01T00:02:30Z')).toBe('2026-01-01T00:05:00.000Z');
    expect(next('0 */5 * * * *', '2026-01-01T00:05:00Z')).toBe('2026-01-01T00:10:00.000Z');
    expect(next('0 */5 * * * *', '2026-12-31T23:59:59Z')).toBe('2027-01-01T00:00:00.000Z');
  });

  it('honours ranges, lists, names and days of the week', () => {
    // 2026-01-03 is a Saturday: the next weekday 09:15:30 is Monday the 5th.
    expect(next('30 15 9 * * 1-5', '2026-01-03T10:00:00Z')).toBe('2026-01-05T09:15:30.000Z');
    expect(next('0 0 12 * Jan Mon', '2026-01-06T00:00:00Z')).toBe('2026-01-12T12:00:00.000Z');
    expect(next('0 0 8,20 * * *', '2026-01-01T09:00:00Z')).toBe('2026-01-01T20:00:00.000Z');
    expect(next('0 0 0 29 2 *', '2026-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
  });

  it('names the field that is wrong', () => {
    expect(() => parseNcrontab('0 */5 * * *')).toThrow(/6 fields/);
    expect(() => parseNcrontab('61 * * * * *')).toThrow(/second "61"/);
    expect(() => parseNcrontab('0 0 0 * foo *')).toThrow(/month "foo"/);
    expect(() => parseNcrontab('0 0 0 31 2 *').next(at('2026-01-01T00:00:00Z'))).toThrow(/never fires/);
  });
});

function timer(name: string, schedule: string, handler: TimerFunctionDefinition['handler']): TimerFunctionDefinition {
  return { name, trigger: 'timer', schedule, handler };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the timer scheduler', () => {
  let scheduler: TimerScheduler | undefined;
  let host: DevHost | undefined;
  afterEach(async () => {
    await scheduler?.stop();
    await host?.close();
    scheduler = undefined;
    host = undefined;
  });

  it('runs a function on its schedule, never two runs of it at once', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const slow = timer('slow', '* * * * * *', async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(1_300);
      running--;
      runs++;
    });
    scheduler = new TimerScheduler({ timers: [slow], services: {} as Services });
    scheduler.start();
    const deadline = Date.now() + 6_000;
    while (runs < 2 && Date.now() < deadline) await sleep(50);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(maxRunning).toBe(1);
  });

  it('refuses a bad schedule at start-up', () => {
    expect(() => new TimerScheduler({ timers: [timer('bad', 'every minute', () => Promise.resolve())], services: {} as Services })).toThrow(/6 fields/);
  });

  it('runs a timer now through POST /admin/functions/<name>, with the key', async () => {
    const ran: string[] = [];
    scheduler = new TimerScheduler({ timers: [timer('nightly', '0 0 3 * * *', () => Promise.resolve(void ran.push('nightly')))], services: {} as Services });
    host = await startDevHost({ services: {} as Services, functionKey: 'k', port: 0, functions: [], runFunction: (n) => scheduler?.runNow(n) });
    const url = `${host.url}/admin/functions/nightly`;
    expect((await fetch(url, { method: 'POST', body: '{"input":""}' })).status).toBe(401);
    expect(ran).toEqual([]);
    expect((await fetch(url, { method: 'POST', body: '{"input":""}', headers: { 'x-functions-key': 'k', 'content-type': 'application/json' } })).status).toBe(202);
    const deadline = Date.now() + 5_000;
    while (ran.length === 0 && Date.now() < deadline) await sleep(20);
    expect(ran).toEqual(['nightly']);
    expect((await fetch(`${host.url}/admin/functions/nope?code=k`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${url}?code=k`)).status).toBe(405);
  });
});
