/** POST /api/classify?profile=: classify one image now and return the result, storing nothing. */
import { registerHttp } from './lib/register';

export const classify = registerHttp('classify');
