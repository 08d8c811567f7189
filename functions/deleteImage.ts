/** DELETE /api/images/{id}: the blob, its renditions, its cached answers and its document. */
import { registerHttp } from './lib/register';

export const deleteImage = registerHttp('deleteImage');
