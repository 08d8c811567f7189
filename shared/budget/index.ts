export type { BudgetStatus, DailyBudgetOptions } from './DailyBudget';
export { BUDGET_REACHED_MESSAGE, DailyBudget, DEFAULT_BUDGET_CACHE_MS } from './DailyBudget';
