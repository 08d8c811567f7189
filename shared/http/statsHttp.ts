/** GET /api/stats?days=N: counts, spend, latency percentiles, shares and reviewed accuracy from the per-day counters. */
import type { BudgetStatus } from '../budget/DailyBudget';
import { dayOf } from '../stats/statsCounters';
import type { StatsStore } from '../stats/StatsStore';
import { summarizeStats } from '../stats/summarizeStats';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';
import { errorToResponse, HttpProblem } from './problem';

export interface StatsHttpDeps {
  stats: Pick<StatsStore, 'readDays'>;
  budget: { status(now: Date): Promise<BudgetStatus> };
  now?: () => Date;
}

export const DEFAULT_STATS_DAYS = 7;
export const MAX_STATS_DAYS = 90;
/** The first day any counter can exist on: "total" reads every day from here. */
const EPOCH_DAY = '2000-01-01';

export async function statsHttp(req: Request, ctx: HttpContext, deps: StatsHttpDeps): Promise<Response> {
  try {
    const raw = new URL(req.url).searchParams.get('days');
    const days = raw === null || raw === '' ? DEFAULT_STATS_DAYS : Number(raw);
    if (!Number.isInteger(days) || days < 1 || days > MAX_STATS_DAYS) throw new HttpProblem(400, 'invalid_query', `days must be a whole number from 1 to ${MAX_STATS_DAYS}, got ${JSON.stringify(raw)}.`);
    const now = (deps.now ?? ((): Date => new Date()))();
    const today = dayOf(now.toISOString());
    const back = (n: number): string => dayOf(new Date(now.getTime() - n * 86_400_000).toISOString());
    const from = back(days - 1);
    const [window, all, budget] = await Promise.all([deps.stats.readDays(from, today, true), deps.stats.readDays(EPOCH_DAY, today, false), deps.budget.status(now)]);
    const summary = summarizeStats({ window, all, from, to: today, today, sevenDaysFrom: back(6) });
    return json({ generatedAt: now.toISOString(), ...summary, budget });
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}
