/** GET /api/stats: per-day counters for the page's stats view and for operators (function key). */
import { registerHttp } from './lib/register';

export const stats = registerHttp('stats');
