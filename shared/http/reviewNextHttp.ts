/**
 * GET /api/review/next: the next image to review, held for this reviewer for REVIEW_LEASE_SECONDS. The reviewer is
 * the signed-in user (their object id) on app/api; on the key route, `?reviewer=` names the key holder (unverified,
 * like the key route's review body: the key proves access, not who), default "key".
 * `?skip=<id>,<id>` passes over images (their leases are given back); `?profile=` narrows the queue.
 */
import type { Caller } from '../auth/caller';
import type { ReviewQueue } from '../review';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';
import { DOCUMENT_ID, publicDocument } from './imagesHttp';
import { errorToResponse, HttpProblem } from './problem';

export interface ReviewNextHttpDeps {
  queue: ReviewQueue;
}

const MAX_SKIP = 200;

export function reviewerOf(caller: Caller | undefined, claimed: string | null): string {
  if (caller?.kind === 'user') return `user:${caller.principal.objectId}`;
  return `key:${claimed ?? 'key'}`;
}

export async function reviewNextHttp(req: Request, ctx: HttpContext, deps: ReviewNextHttpDeps): Promise<Response> {
  try {
    const q = new URL(req.url).searchParams;
    const claimed = q.get('reviewer');
    if (claimed !== null && (claimed.length === 0 || claimed.length > 200)) throw new HttpProblem(400, 'invalid_query', 'reviewer: 1 to 200 characters.');
    if (ctx.caller?.kind === 'user' && claimed !== null) throw new HttpProblem(400, 'invalid_query', 'The reviewer is the signed-in user; leave out "reviewer".');
    const skip = (q.get('skip') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (skip.length > MAX_SKIP || skip.some((s) => !DOCUMENT_ID.test(s))) throw new HttpProblem(400, 'invalid_query', `skip: up to ${MAX_SKIP} comma-separated document ids.`);
    const profile = q.get('profile');
    if (profile !== null && !/^[a-z0-9][a-z0-9-]{0,99}$/.test(profile)) throw new HttpProblem(400, 'invalid_query', 'profile: a profile name.');
    const reviewer = reviewerOf(ctx.caller, claimed);
    // Passed-over images go back to the queue for everyone else right away.
    await Promise.all(skip.map((id) => deps.queue.release(id, reviewer)));
    const next = await deps.queue.next(reviewer, { skip, ...(profile === null ? {} : { profile }) });
    if (next === undefined) return json({ item: null, lease: null });
    const { reviewLease: _lease, ...item } = publicDocument(next.doc);
    return json({ item, lease: { expiresAt: next.lease.expiresAt } }, 200, next.doc._etag === undefined ? {} : { etag: next.doc._etag });
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}
