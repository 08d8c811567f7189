/** POST /api/classify?profile=: classify one image now (raw image body or multipart), storing nothing. */
import type { Classifier } from '../model/classifier';
import { classificationFields, classifyBytes } from '../pipeline';
import type { ProfileRegistry } from '../profiles';
import { requireProfile } from '../profiles';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';
import { errorToResponse, HttpProblem } from './problem';
import { readBodyLimited } from './readBodyLimited';

export interface ClassifyHttpDeps {
  classifier: Classifier;
  profiles: ProfileRegistry;
  defaultProfile: string;
  limits: { maxBytes: number; maxPixels: number };
}

/** Multipart framing around the file: boundaries and part headers. */
const MULTIPART_OVERHEAD = 64 * 1024;

export async function classifyHttp(req: Request, ctx: HttpContext, deps: ClassifyHttpDeps): Promise<Response> {
  try {
    if (req.method !== 'POST') throw new HttpProblem(405, 'method_not_allowed', 'Use POST with the image as the body.', { allow: 'POST' });
    const profileName = new URL(req.url).searchParams.get('profile')?.trim() || deps.defaultProfile;
    if (!deps.profiles.has(profileName)) {
      throw new HttpProblem(400, 'unknown_profile', `Unknown profile "${profileName}". Known profiles: ${deps.profiles.names().join(', ')}.`);
    }
    const profile = requireProfile(deps.profiles, profileName, 'the profile query parameter');
    const bytes = await readImage(req, deps.limits.maxBytes);
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

/** The image bytes from a raw `image/*` body or the first file part of `multipart/form-data`. */
async function readImage(req: Request, maxBytes: number): Promise<Buffer> {
  const type = (req.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type.startsWith('image/') || type === 'application/octet-stream') {
    const bytes = await readBodyLimited(req, maxBytes);
    if (bytes.length === 0) throw new HttpProblem(400, 'empty_blob', 'The request body is empty; send the image bytes as the body.');
    return bytes;
  }
  if (type === 'multipart/form-data') {
    const raw = await readBodyLimited(req, maxBytes + MULTIPART_OVERHEAD);
    let form: FormData;
    try {
      form = await new Response(raw, { headers: { 'content-type': req.headers.get('content-type') ?? '' } }).formData();
    } catch {
      throw new HttpProblem(400, 'bad_multipart', 'The multipart body could not be parsed.');
    }
    const file = [...form.values()].find((v) => typeof v !== 'string');
    if (file === undefined || typeof file === 'string') throw new HttpProblem(400, 'no_file', 'The multipart body has no file part; send the image as a file field (e.g. "image").');
    if (file.size > maxBytes) throw new HttpProblem(413, 'too_large', `The image is larger than the limit of ${maxBytes} bytes (MAX_IMAGE_BYTES).`, {}, { maxBytes });
    if (file.size === 0) throw new HttpProblem(400, 'empty_blob', 'The uploaded file is empty.');
    return Buffer.from(await file.arrayBuffer());
  }
  throw new HttpProblem(
    415,
    'unsupported_media_type',
    `Content-Type ${JSON.stringify(type || '(none)')} is not accepted: send the image with an image/* content type, or as multipart/form-data.`,
  );
}
