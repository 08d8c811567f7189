/**
 * DAILY_BUDGET_USD: once the cost counted today (UTC, from the stats counters) reaches the cap, new work waits.
 * Waiting means a TransientError before the claim: nothing is written, Event Grid redelivers on its schedule
 * (hourly towards the end of its 24 h) and the reconcile sweep finds the blob later, so the image is processed the next
 * day or as soon as the cap is raised, and never dropped or failed for it. Work already past its claim finishes, so
 * the cap can be overshot by what is in flight (instances x concurrency x cost per image) and by the cache window.
 */
import { TransientError } from '../errors';
import type { Logger } from '../logging';
import { silentLogger } from '../logging';
import { dayOf } from '../stats/statsCounters';
import type { StatsStore } from '../stats/StatsStore';

export interface BudgetStatus {
  /** The cap, USD; null when unset (no cap). */
  dailyUsd: number | null;
  spentTodayUsd: number;
  reached: boolean;
}

export interface DailyBudgetOptions {
  /** How long one reading of today's cost is reused, ms; each reading is a query over today's counter shards. */
  cacheMs?: number;
  log?: Logger;
}

/** The message the budget alert searches the logs for; keep infra/app/alerts.bicep in step. */
export const BUDGET_REACHED_MESSAGE = 'daily budget reached: new work waits';

export const DEFAULT_BUDGET_CACHE_MS = 15_000;

export class DailyBudget {
  readonly #stats: StatsStore;
  readonly #capUsd: number | undefined;
  readonly #cacheMs: number;
  readonly #log: Logger;
  #cached: { day: string; spent: number; at: number } | undefined;
  #warnedAt = 0;

  constructor(stats: StatsStore, capUsd: number | undefined, options: DailyBudgetOptions = {}) {
    this.#stats = stats;
    this.#capUsd = capUsd;
    this.#cacheMs = options.cacheMs ?? DEFAULT_BUDGET_CACHE_MS;
    this.#log = options.log ?? silentLogger;
  }

  async status(now: Date): Promise<BudgetStatus> {
    // Fresh, not the gate's cached reading: this is what people look at.
    const spent = await this.#stats.costOfDay(dayOf(now.toISOString()));
    return { dailyUsd: this.#capUsd ?? null, spentTodayUsd: spent, reached: this.#capUsd !== undefined && spent >= this.#capUsd };
  }

  /** Throws TransientError `budget_reached` (with the wait until midnight UTC) when today's cost reached the cap. */
  async check(now: Date): Promise<void> {
    if (this.#capUsd === undefined) return;
    const spent = await this.#spent(now);
    if (spent < this.#capUsd) return;
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    if (now.getTime() - this.#warnedAt >= this.#cacheMs) {
      // Once per reading, not once per event: the alert counts these lines.
      this.#warnedAt = now.getTime();
      this.#log.warn(BUDGET_REACHED_MESSAGE, { dailyBudgetUsd: this.#capUsd, spentTodayUsd: spent, resumesAt: new Date(midnight).toISOString() });
    }
    throw new TransientError('budget_reached', `Today's model cost ($${spent.toFixed(4)}) reached DAILY_BUDGET_USD ($${this.#capUsd}); the image waits for tomorrow (UTC) or a higher cap.`, {
      retryAfterMs: midnight - now.getTime(),
      details: { dailyBudgetUsd: this.#capUsd, spentTodayUsd: spent },
    });
  }

  async #spent(now: Date): Promise<number> {
    const day = dayOf(now.toISOString());
    const c = this.#cached;
    if (c !== undefined && c.day === day && now.getTime() - c.at < this.#cacheMs) return c.spent;
    const spent = await this.#stats.costOfDay(day);
    this.#cached = { day, spent, at: now.getTime() };
    return spent;
  }
}
