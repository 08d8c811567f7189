/** PATCH /api/images/{id}/review: a person's correction, stored beside the model's answer and never over it. */
import { z } from 'zod';

import type { ClassificationResult } from '../model/classification';
import { flattenLabels } from '../pipeline';
import type { Profile, ProfileRegistry } from '../profiles';
import type { ImageDocument, ImageReview, ImageStore, ReviewedBy } from '../store';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';
import { DOCUMENT_ID, publicDocument } from './imagesHttp';
import { errorToResponse, HttpProblem } from './problem';
import { readBodyLimited } from './readBodyLimited';

export interface ReviewHttpDeps {
  store: ImageStore;
  profiles: ProfileRegistry;
}

const reviewBody = z
  .object({
    /** single-label */
    label: z.string().min(1).max(200).optional(),
    /** multi-label: the labels present; objects: the categories whose detections are right */
    labels: z.array(z.string().min(1).max(200)).max(200).optional(),
    /** attributes: field → label; fields left out keep the model's answer */
    attributes: z.record(z.string(), z.string().min(1).max(200)).optional(),
    note: z.string().max(2000).optional(),
    reviewer: z.string().max(200).optional(),
  })
  .strict();
type ReviewBody = z.infer<typeof reviewBody>;

/** Read-modify-write with the document's etag; a concurrent writer makes us re-read, a few times at most. */
const MAX_ATTEMPTS = 3;

export async function reviewHttp(req: Request, ctx: HttpContext, deps: ReviewHttpDeps): Promise<Response> {
  try {
    const id = ctx.params['id'] ?? '';
    if (!DOCUMENT_ID.test(id)) throw new HttpProblem(400, 'invalid_id', 'The id must be 32 lower-case hex characters, as returned by GET /api/images.');
    let parsed: unknown;
    try {
      parsed = JSON.parse((await readBodyLimited(req, 64 * 1024)).toString('utf8'));
    } catch (e) {
      if (e instanceof HttpProblem) throw e;
      throw new HttpProblem(400, 'invalid_json', 'The body must be JSON, e.g. {"label": "rose"}.');
    }
    const body = reviewBody.safeParse(parsed);
    if (!body.success) throw new HttpProblem(400, 'invalid_review', body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    // Only a verified caller: a signed-in user (the signed-in route checked the platform's principal and the role), else
    // a key holder. Never a header: `x-ms-client-principal-name` is anyone's to send where the platform does not set it.
    const caller = ctx.caller ?? { kind: 'key' };
    if (caller.kind === 'user' && body.data.reviewer !== undefined) {
      throw new HttpProblem(400, 'invalid_review', `The reviewer is the signed-in user (${caller.principal.name ?? caller.principal.objectId}); leave out "reviewer".`);
    }
    const reviewedBy: ReviewedBy =
      caller.kind === 'user'
        ? { kind: 'user', objectId: caller.principal.objectId, name: caller.principal.name, identityProvider: caller.principal.identityProvider }
        : { kind: 'key' };
    const reviewer = caller.kind === 'user' ? caller.principal.name : (body.data.reviewer ?? null);

    for (let attempt = 1; ; attempt++) {
      const doc = await deps.store.get(id);
      if (doc === undefined) throw new HttpProblem(404, 'not_found', `No image document with id ${id}.`);
      const profile = doc.profile === null ? undefined : deps.profiles.get(doc.profile.name);
      if (profile === undefined) throw new HttpProblem(409, 'not_reviewable', 'This image has no profile to review against (it was rejected before one was chosen).');
      const result = correctedResult(profile, doc, body.data);
      const review: ImageReview = { result, labels: flattenLabels(result), reviewer, reviewedBy, note: body.data.note ?? null, reviewedAt: new Date().toISOString() };
      const next: ImageDocument = { ...doc, review, updatedAt: review.reviewedAt };
      const stored = doc._etag === undefined ? await deps.store.upsert(next) : await deps.store.replace(next, doc._etag);
      if (stored !== 'conflict') return json(publicDocument(stored));
      if (attempt >= MAX_ATTEMPTS) throw new HttpProblem(409, 'conflict', 'The document kept changing while the review was saved; try again.');
    }
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}

/** The correction as a result of the profile's kind; every label must be one the profile knows. */
function correctedResult(profile: Profile, doc: ImageDocument, body: ReviewBody): ClassificationResult {
  const known = (labels: readonly { name: string }[], value: string, where: string): string => {
    if (!labels.some((l) => l.name === value)) throw new HttpProblem(400, 'invalid_review', `"${value}" is not a label of ${where}: ${labels.map((l) => l.name).join(', ')}.`);
    return value;
  };
  switch (profile.kind) {
    case 'single-label': {
      if (body.label === undefined) throw new HttpProblem(400, 'invalid_review', `Send {"label": "<one of ${profile.labels.map((l) => l.name).join(', ')}>"}.`);
      return { kind: 'single-label', label: known(profile.labels, body.label, `profile ${profile.name}`), confidence: 1 };
    }
    case 'multi-label': {
      if (body.labels === undefined) throw new HttpProblem(400, 'invalid_review', 'Send {"labels": [...]} with every label that applies (may be empty).');
      const labels = [...new Set(body.labels.map((l) => known(profile.labels, l, `profile ${profile.name}`)))];
      return { kind: 'multi-label', labels: labels.map((label) => ({ label, confidence: 1 })) };
    }
    case 'attributes': {
      if (body.attributes === undefined) throw new HttpProblem(400, 'invalid_review', `Send {"attributes": {${profile.attributes.map((a) => `"${a.name}": ...`).join(', ')}}}.`);
      const modelAttrs = doc.result?.kind === 'attributes' ? doc.result.attributes : {};
      const attributes: Record<string, { label: string; confidence: number | null }> = {};
      for (const field of profile.attributes) {
        const given = body.attributes[field.name];
        if (given !== undefined) attributes[field.name] = { label: known(field.labels, given, `attribute ${field.name}`), confidence: 1 };
        else if (modelAttrs[field.name] !== undefined) attributes[field.name] = modelAttrs[field.name] as { label: string; confidence: number | null };
      }
      const unknown = Object.keys(body.attributes).filter((k) => !profile.attributes.some((a) => a.name === k));
      if (unknown.length > 0) throw new HttpProblem(400, 'invalid_review', `Unknown attribute(s) ${unknown.join(', ')}; profile ${profile.name} has ${profile.attributes.map((a) => a.name).join(', ')}.`);
      return { kind: 'attributes', attributes };
    }
    case 'objects': {
      if (body.labels === undefined) throw new HttpProblem(400, 'invalid_review', 'Send {"labels": [...]} with the categories whose detections are right; the others are removed.');
      const keep = new Set(body.labels);
      const objects = doc.result?.kind === 'objects' ? doc.result.objects.filter((o) => keep.has(o.label)) : [];
      return { kind: 'objects', objects };
    }
  }
}
