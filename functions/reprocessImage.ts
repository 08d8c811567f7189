/** POST /api/images/{id}/reprocess and POST /api/images/reprocess: a new answer only where one is due. */
import { registerHttp } from './lib/register';

export const reprocessImage = registerHttp('reprocessImage');
export const reprocessImages = registerHttp('reprocessImages');
