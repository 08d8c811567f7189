/** DELETE /api/images/{id}: the blob, its renditions, its cached answers and its document (a privacy request). */
import type { DeleteImageDeps } from '../lifecycle';
import { deleteImage } from '../lifecycle';
import type { HttpContext } from './HttpContext';
import { API_HEADERS } from './HttpContext';
import { DOCUMENT_ID } from './imagesHttp';
import { errorToResponse, HttpProblem } from './problem';

export async function deleteImageHttp(_req: Request, ctx: HttpContext, deps: DeleteImageDeps): Promise<Response> {
  try {
    const id = ctx.params['id'] ?? '';
    if (!DOCUMENT_ID.test(id)) throw new HttpProblem(400, 'invalid_id', 'The id must be 32 lower-case hex characters, as returned by GET /api/images.');
    const r = await deleteImage(id, deps);
    if (r.kind === 'not-found') throw new HttpProblem(404, 'not_found', `No image document with id ${id}.`);
    if (r.kind === 'in-flight') {
      const seconds = Math.max(1, Math.ceil((Date.parse(r.leaseExpiresAt) - Date.now()) / 1000));
      throw new HttpProblem(409, 'in_flight', `The image is being processed; delete it again after ${r.leaseExpiresAt}.`, { 'retry-after': String(seconds) });
    }
    ctx.log.info('image deleted', { id, blob: r.blob, renditions: r.renditions, cacheEntries: r.cacheEntries });
    return new Response(null, { status: 204, headers: { ...API_HEADERS } });
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}
