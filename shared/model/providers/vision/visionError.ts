/** Maps an Image Analysis HTTP failure to the error kinds the pipeline acts on, with fixes that name Vision's settings. */
import type { BlobsightError } from '../../../errors';
import { PermanentError, TransientError } from '../../../errors';
import { mapModelError } from '../../mapModelError';

/** What to do about a 401/403 from Vision. */
export const VISION_AUTH_FIX =
  "Fix: assign the 'Cognitive Services User' role on the Azure AI Vision resource of VISION_ENDPOINT to the app's identity (role assignments take up to ~10 min to propagate), or check VISION_API_KEY if you configured a key.";
/** What to do about a 404 from Vision. */
export const VISION_ENDPOINT_FIX =
  'Fix: VISION_ENDPOINT has no Image Analysis 4.0 at /computervision/imageanalysis:analyze; check it is the Vision (or AI Services) resource endpoint, https://<resource>.cognitiveservices.azure.com, in a region that offers Image Analysis 4.0, and VISION_API_VERSION.';

/** The HTTP failure as mapModelError reads an SDK error: `status`, the body's `error`, and the headers. */
export class VisionHttpError extends Error {
  override readonly name = 'VisionHttpError';
  readonly status: number;
  readonly error: { code?: string; message?: string; innererror?: unknown };
  readonly headers: Headers;

  constructor(status: number, error: { code?: string; message?: string; innererror?: unknown }, headers: Headers) {
    super(`${status} ${error.code ?? ''}: ${error.message ?? ''}`.trim());
    this.status = status;
    this.error = error;
    this.headers = headers;
  }
}

/** Reads an error response: `Azure.Core.Foundations.ErrorResponse {error: {code, message, innererror: {code}}}` plus `x-ms-error-code`. */
export async function visionHttpError(response: Response): Promise<VisionHttpError> {
  const text = await response.text().catch(() => '');
  let error: { code?: string; message?: string; innererror?: unknown } = {};
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'object' && body.error !== null) error = body.error;
  } catch {
    error = { message: text.slice(0, 200) };
  }
  // The specific reason (InvalidImageSize, InvalidImageFormat, NotSupportedVisualFeature...) is the inner code.
  const inner = typeof error.innererror === 'object' && error.innererror !== null ? (error.innererror as { code?: unknown }).code : undefined;
  const code = typeof inner === 'string' ? inner : typeof error.code === 'string' ? error.code : (response.headers.get('x-ms-error-code') ?? undefined);
  return new VisionHttpError(response.status, { ...error, ...(code === undefined ? {} : { code }) }, response.headers);
}

/**
 * mapModelError's rules (429 → throttled with the server's wait, 5xx → unavailable, 400 about the image →
 * `invalid_image`, other 4xx → `model_bad_request`), with Vision's own fixes on 401/403 (`model_auth`) and 404
 * (`model_deployment_not_found`: here a wrong endpoint, as Vision has no deployments).
 */
export function mapVisionError(e: unknown): BlobsightError {
  const mapped = mapModelError(e);
  if (!(e instanceof VisionHttpError)) return mapped;
  const details = { ...mapped.details, provider: 'azure-ai-vision' };
  if (mapped.code === 'model_auth') {
    return new TransientError('model_auth', `Azure AI Vision refused the caller (${e.status}). ${VISION_AUTH_FIX} ${e.message}`, { cause: e, details: { ...details, fix: VISION_AUTH_FIX } });
  }
  if (mapped.code === 'model_deployment_not_found') {
    return new TransientError('model_deployment_not_found', `Azure AI Vision answered 404. ${VISION_ENDPOINT_FIX} ${e.message}`, { cause: e, details: { ...details, fix: VISION_ENDPOINT_FIX } });
  }
  if (mapped.kind === 'permanent') return new PermanentError(mapped.code, mapped.message, { cause: e, details });
  return new TransientError(mapped.code, mapped.message, { cause: e, details, ...(mapped.retryAfterMs === undefined ? {} : { retryAfterMs: mapped.retryAfterMs }) });
}
