/** GET /api/health: storage and Cosmos DB reachable, model configured. Anonymous, spends no tokens. */
import { registerHttp } from './lib/register';

export const health = registerHttp('health');
