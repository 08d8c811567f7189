/** GET /api/health/details: the checks, the model and their errors, for function-key holders. */
import { registerHttp } from './lib/register';

export const healthDetails = registerHttp('healthDetails');
