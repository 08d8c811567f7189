/** GET /api/images/{id} and GET /api/images: read and query stored results. */
import { z } from 'zod';

import type { ImageDocument, ImageStore } from '../store';
import { isInvalidContinuationTokenError } from '../store';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';
import { errorToResponse, HttpProblem } from './problem';

export interface ImagesHttpDeps {
  store: ImageStore;
}

/** Document ids are 32 lower-case hex characters (see documentId). */
export const DOCUMENT_ID = /^[0-9a-f]{32}$/;
export const MAX_PAGE = 100;
export const DEFAULT_PAGE = 25;

export async function getImageHttp(_req: Request, ctx: HttpContext, deps: ImagesHttpDeps): Promise<Response> {
  try {
    const id = ctx.params['id'] ?? '';
    if (!DOCUMENT_ID.test(id)) throw new HttpProblem(400, 'invalid_id', 'The id must be 32 lower-case hex characters, as returned by GET /api/images.');
    const doc = await deps.store.get(id);
    if (doc === undefined) throw new HttpProblem(404, 'not_found', `No image document with id ${id}.`);
    return json(publicDocument(doc), 200, doc._etag === undefined ? {} : { etag: doc._etag });
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}

/**
 * Query numbers in plain decimal only: `Number()` would read `0x10` as 16, `1e3` as 1000 and an empty value as 0
 * (an empty minConfidence then hid every document without a confidence).
 */
const DECIMAL = /^(?:0|[1-9]\d*)(?:\.\d+)?$|^\.\d+$/;
const WHOLE = /^(?:0|[1-9]\d{0,8})$/;
const confidence = z
  .string()
  .regex(DECIMAL, 'a decimal number from 0 to 1, e.g. 0.8')
  .transform(Number)
  .pipe(z.number().min(0).max(1));
const listQuery = z
  .object({
    status: z.enum(['classified', 'needs_review', 'rejected', 'failed', 'processing', 'deleted']).optional(),
    label: z.string().trim().min(1).max(200).optional(),
    profile: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a profile name').optional(),
    minConfidence: confidence.optional(),
    maxConfidence: confidence.optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    // Larger pages are capped rather than refused, so a client asking for "all" still gets a bounded answer.
    limit: z
      .string()
      .regex(WHOLE, 'a whole number in decimal, e.g. 25')
      .transform(Number)
      .pipe(z.number().int().min(1))
      .optional()
      .transform((n) => Math.min(n ?? DEFAULT_PAGE, MAX_PAGE)),
    continuationToken: z.string().min(1).max(16_384).optional(),
  })
  .strict()
  .refine((q) => q.minConfidence === undefined || q.maxConfidence === undefined || q.minConfidence <= q.maxConfidence, 'minConfidence must not exceed maxConfidence');

export async function listImagesHttp(req: Request, ctx: HttpContext, deps: ImagesHttpDeps): Promise<Response> {
  try {
    const params = Object.fromEntries([...new URL(req.url).searchParams.entries()].filter(([k]) => k !== 'code'));
    const q = listQuery.safeParse(params);
    if (!q.success) {
      throw new HttpProblem(400, 'invalid_query', q.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '));
    }
    // exactOptionalPropertyTypes: drop absent filters rather than pass `undefined`.
    const filter = Object.fromEntries(Object.entries(q.data).filter(([, v]) => v !== undefined)) as unknown as Parameters<ImageStore['list']>[0];
    let page;
    try {
      page = await deps.store.list(filter);
    } catch (e) {
      if (isInvalidContinuationTokenError(e)) throw new HttpProblem(400, 'invalid_continuation_token', 'The continuationToken is not valid for this query; start again without it.');
      throw e;
    }
    return json({ items: page.items.map(publicDocument), continuationToken: page.continuationToken, count: page.items.length });
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}

/** The document without Cosmos system properties (`_rid`, `_self`, `_ts`, ...). */
export function publicDocument(doc: ImageDocument): Omit<ImageDocument, '_etag'> {
  return Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('_'))) as Omit<ImageDocument, '_etag'>;
}
