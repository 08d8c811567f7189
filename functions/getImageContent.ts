/** GET /api/images/{id}/content?size=: the image as an upright JPEG thumbnail or preview. */
import { registerHttp } from './lib/register';

export const getImageContent = registerHttp('getImageContent');
