/** POST /api/images/{id}/reprocess and POST /api/images/reprocess (by filter): a new answer only where one is due. */
import { z } from 'zod';

import type { ReprocessFilter } from '../lifecycle';
import { MAX_BULK_REPROCESS, reprocessImage, reprocessMany } from '../lifecycle';
import type { PipelineDeps } from '../pipeline';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';
import { DOCUMENT_ID, publicDocument } from './imagesHttp';
import { errorToResponse, HttpProblem } from './problem';
import { readBodyLimited } from './readBodyLimited';

const profileName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a profile name').max(100);
const singleBody = z.object({ profile: profileName.optional() }).strict();
const bulkBody = z
  .object({
    status: z.enum(['classified', 'needs_review', 'rejected', 'failed']).optional(),
    profile: profileName.optional(),
    label: z.string().min(1).max(200).optional(),
    /** Reprocess under this profile instead of the one each image has. */
    toProfile: profileName.optional(),
    max: z.number().int().min(1).max(MAX_BULK_REPROCESS).optional(),
  })
  .strict();

async function readJson(req: Request, example: string): Promise<unknown> {
  const text = (await readBodyLimited(req, 4096, 'the reprocess body limit of 4 KiB')).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpProblem(400, 'invalid_json', `The body must be JSON, e.g. ${example}, or empty.`);
  }
}

function invalid(issues: z.core.$ZodIssue[]): HttpProblem {
  return new HttpProblem(400, 'invalid_request', issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
}

export async function reprocessImageHttp(req: Request, ctx: HttpContext, deps: PipelineDeps): Promise<Response> {
  try {
    const id = ctx.params['id'] ?? '';
    if (!DOCUMENT_ID.test(id)) throw new HttpProblem(400, 'invalid_id', 'The id must be 32 lower-case hex characters, as returned by GET /api/images.');
    const body = singleBody.safeParse(await readJson(req, '{"profile": "pets"}'));
    if (!body.success) throw invalid(body.error.issues);
    const r = await reprocessImage(id, body.data.profile === undefined ? {} : { profile: body.data.profile }, { ...deps, log: ctx.log });
    if (r.kind === 'not-found') throw new HttpProblem(404, 'not_found', `No image document with id ${id}.`);
    if (r.kind === 'refused') throw new HttpProblem(409, r.code, r.reason);
    const out = r.outcome;
    return json({ outcome: out.outcome, ...('document' in out ? { document: publicDocument(out.document) } : { reason: out.reason }) });
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}

export async function reprocessImagesHttp(req: Request, ctx: HttpContext, deps: PipelineDeps): Promise<Response> {
  try {
    const body = bulkBody.safeParse(await readJson(req, '{"status": "needs_review", "max": 20}'));
    if (!body.success) throw invalid(body.error.issues);
    const { max = 20, toProfile, ...filter } = body.data;
    // Absent keys only, never `undefined` values: the store's filter has exact optional properties.
    const defined = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as ReprocessFilter;
    const r = await reprocessMany(defined, { max, ...(toProfile === undefined ? {} : { toProfile }) }, { ...deps, log: ctx.log });
    return json(r);
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}
