/** GET /api/images/{id}: one image document. */
import { registerHttp } from './lib/register';

export const getImage = registerHttp('getImage');
