/** POST /api/classify?profile=: classify one image now (raw image body or multipart), storing nothing. */
import type { Classifier } from '../model/classifier';
import { classificationFields, classifyBytes } from '../pipeline';
import type { ProfileRegistry } from '../profiles';
import { requireProfile } from '../profiles';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';
import { errorToResponse, HttpProblem } from './problem';
import { readImageFile } from './readImageFile';

export interface ClassifyHttpDeps {
  classifier: Classifier;
  profiles: ProfileRegistry;
  defaultProfile: string;
  limits: { maxBytes: number; maxPixels: number };
}

export async function classifyHttp(req: Request, ctx: HttpContext, deps: ClassifyHttpDeps): Promise<Response> {
  try {
    if (req.method !== 'POST') throw new HttpProblem(405, 'method_not_allowed', 'Use POST with the image as the body.', { allow: 'POST' });
    const profileName = new URL(req.url).searchParams.get('profile')?.trim() || deps.defaultProfile;
    if (!deps.profiles.has(profileName)) {
      throw new HttpProblem(400, 'unknown_profile', `Unknown profile "${profileName}". Known profiles: ${deps.profiles.names().join(', ')}.`);
    }
    const profile = requireProfile(deps.profiles, profileName, 'the profile query parameter');
    const { bytes } = await readImageFile(req, deps.limits.maxBytes);
    const r = await classifyBytes(bytes, profile, { classifier: deps.classifier, limits: deps.limits }, req.signal);
    return json({
      status: r.status,
      profile: { name: profile.name, version: profile.version },
      ...classificationFields(r.classification),
      timings: r.timings,
      image: { ...r.image.original, sentWidth: r.image.width, sentHeight: r.image.height, detail: r.image.detail, estimatedImageTokens: r.image.estimatedImageTokens },
    });
  } catch (e) {
    return errorToResponse(e, ctx.log);
  }
}
