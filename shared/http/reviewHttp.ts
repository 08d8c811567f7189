/** PATCH /api/images/{id}/review: a person's correction, stored beside the model's answer and never over it. */
import { z } from 'zod';

import type { ClassificationResult } from '../model/classification';
import { flattenLabels, requireETag } from '../pipeline';
import type { Profile, ProfileRegistry } from '../profiles';
import type { StatsStore } from '../stats/StatsStore';
import type { ImageDocument, ImageReview, ImageStore, ReviewedBy } from '../store';
import { recordReview as recordReviewMetric } from '../telemetry/recordReview';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';
import { DOCUMENT_ID, publicDocument } from './imagesHttp';
import { errorToResponse, HttpProblem } from './problem';
import { readBodyLimited } from './readBodyLimited';

export interface ReviewHttpDeps {
  store: ImageStore;
  profiles: ProfileRegistry;
  /** Reviewed accuracy counters; absent: reviews are not counted. */
  stats?: Pick<StatsStore, 'recordReview'>;
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
/** `attributeNames`: the attribute keys as sent (zod builds records by assignment, which drops a "__proto__" key). */
type ReviewBody = z.infer<typeof reviewBody> & { attributeNames?: string[] };

function withAttributeNames(parsed: unknown): { attributeNames?: string[] } {
  const a: unknown = typeof parsed === 'object' && parsed !== null ? (parsed as { attributes?: unknown }).attributes : undefined;
  return typeof a === 'object' && a !== null ? { attributeNames: Object.keys(a) } : {};
}

/** Read-modify-write with the document's etag; a concurrent writer makes us re-read, a few times at most. */
const MAX_ATTEMPTS = 3;

export async function reviewHttp(req: Request, ctx: HttpContext, deps: ReviewHttpDeps): Promise<Response> {
  try {
    const id = ctx.params['id'] ?? '';
    if (!DOCUMENT_ID.test(id)) throw new HttpProblem(400, 'invalid_id', 'The id must be 32 lower-case hex characters, as returned by GET /api/images.');
    let parsed: unknown;
    try {
      parsed = JSON.parse((await readBodyLimited(req, 64 * 1024, 'the review body limit of 64 KiB')).toString('utf8'));
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

    // If-Match (the etag GET /api/images/{id} returned): the review applies only to that version, or 412.
    const ifMatch = ifMatchList(req.headers.get('if-match'));
    for (let attempt = 1; ; attempt++) {
      const doc = await deps.store.get(id);
      if (doc === undefined) throw new HttpProblem(404, 'not_found', `No image document with id ${id}.`);
      if (ifMatch !== undefined && (doc._etag === undefined || !ifMatch.includes(doc._etag))) throw preconditionFailed();
      const profile = doc.profile === null ? undefined : deps.profiles.get(doc.profile.name);
      if (profile === undefined) throw new HttpProblem(409, 'not_reviewable', 'This image has no profile to review against (it was rejected before one was chosen).');
      const result = correctedResult(profile, doc, { ...body.data, ...withAttributeNames(parsed) });
      const review: ImageReview = { result, labels: flattenLabels(result), reviewer, reviewedBy, note: body.data.note ?? null, reviewedAt: new Date().toISOString() };
      const next: ImageDocument = { ...doc, review, updatedAt: review.reviewedAt };
      const stored = await deps.store.replace(next, requireETag(doc));
      // Counted after the write (the entry is per image, so a changed review replaces it). If this fails the review is
      // saved but not counted: the 503 says so, and sending the review again counts it.
      if (stored !== 'conflict') {
        recordReviewMetric(stored);
        await deps.stats?.recordReview(stored);
      }
      if (stored !== 'conflict') return json(publicDocument(stored), 200, stored._etag === undefined ? {} : { etag: stored._etag });
      if (ifMatch !== undefined) throw preconditionFailed();
      if (attempt >= MAX_ATTEMPTS) throw new HttpProblem(409, 'conflict', 'The document kept changing while the review was saved; try again.');
    }
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}

/** The entity tags of an If-Match header; undefined when absent or `*` (any current version). */
function ifMatchList(header: string | null): string[] | undefined {
  if (header === null || header.trim() === '*') return undefined;
  // Weak tags never match for If-Match (RFC 9110 strong comparison); Cosmos etags are strong.
  return header.split(',').map((t) => t.trim()).filter((t) => t !== '' && !t.startsWith('W/'));
}

function preconditionFailed(): HttpProblem {
  return new HttpProblem(412, 'precondition_failed', 'The document changed since the version named in If-Match; read it again (GET /api/images/{id}) and review that.');
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
      // Every name given must be one of the profile's, checked before any value.
      const unknownNames = (body.attributeNames ?? Object.keys(body.attributes)).filter((k) => !profile.attributes.some((a) => a.name === k));
      if (unknownNames.length > 0) throw new HttpProblem(400, 'invalid_review', `Unknown attribute(s) ${unknownNames.map((k) => JSON.stringify(k)).join(', ')}; profile ${profile.name} has ${profile.attributes.map((a) => a.name).join(', ')}.`);
      const modelAttrs = doc.result?.kind === 'attributes' ? doc.result.attributes : {};
      const attributes: Record<string, { label: string; confidence: number | null }> = {};
      for (const field of profile.attributes) {
        const given = Object.hasOwn(body.attributes, field.name) ? body.attributes[field.name] : undefined;
        if (given !== undefined) attributes[field.name] = { label: known(field.labels, given, `attribute ${field.name}`), confidence: 1 };
        else if (modelAttrs[field.name] !== undefined) attributes[field.name] = modelAttrs[field.name] as { label: string; confidence: number | null };
      }
      return { kind: 'attributes', attributes };
    }
    case 'objects': {
      if (body.labels === undefined) throw new HttpProblem(400, 'invalid_review', 'Send {"labels": [...]} with the categories whose detections are right; the others are removed.');
      // The categories a reviewer can keep are those detected in this image: anything else (a typo, "unicorn")
      // would silently keep nothing and drop every detection.
      const detected = doc.result?.kind === 'objects' ? doc.result.objects : [];
      const categories = [...new Set(detected.map((o) => o.label))];
      const unknownLabels = body.labels.filter((l) => !categories.includes(l));
      if (unknownLabels.length > 0) {
        throw new HttpProblem(400, 'invalid_review', `${unknownLabels.map((l) => JSON.stringify(l)).join(', ')} ${unknownLabels.length === 1 ? 'is not a category' : 'are not categories'} detected in this image: ${categories.join(', ') || '(none)'}.`);
      }
      const keep = new Set(body.labels);
      return { kind: 'objects', objects: detected.filter((o) => keep.has(o.label)) };
    }
  }
}
