/** GET /api/images: query documents by status, label, profile, confidence range and time, with paging. */
import { registerHttp } from './lib/register';

export const listImages = registerHttp('listImages');
