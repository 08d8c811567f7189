/** Makes the image sent to Azure AI Vision fit its size limits, or refuses it before anything is paid. */
import sharp from 'sharp';

import { PermanentError } from '../../../errors';
import type { PreprocessedImage } from '../../../preprocess/preprocessedImage';
import type { VisionImageLimits } from './visionContract';
import { VISION_IMAGE_LIMITS } from './visionContract';

export interface VisionUpload {
  /** JPEG bytes to send. */
  bytes: Buffer;
  width: number;
  height: number;
}

/** (size factor, JPEG quality) tried in turn on an image over the byte limit, each on the result of the one before. */
const SHRINK_STEPS: readonly (readonly [number, number])[] = [[1, 80], [1, 60], [0.5, 70], [0.5, 60], [0.5, 60]];

/**
 * The pipeline's preprocessed JPEG (already upright, metadata-free, at most 2048 px) is sent as it is when it fits.
 * An original smaller than `minSide` on a side can never fit: `invalid_image`, the document ends `rejected`, no call
 * is made. A preprocessed copy that shrank a long, thin original below `minSide` is enlarged to it (the boxes are
 * mapped back through the size the service reports, so this costs only sharpness); one over `maxSide` or `maxBytes`
 * is shrunk and re-encoded, as preprocessing does for every provider.
 */
export async function fitVisionLimits(image: PreprocessedImage, limits: VisionImageLimits = VISION_IMAGE_LIMITS): Promise<VisionUpload> {
  const { width: ow, height: oh } = image.original;
  if (Math.min(ow, oh) < limits.minSide) {
    throw new PermanentError(
      'invalid_image',
      `The image is ${ow}x${oh} pixels; Azure AI Vision analyses images of at least ${limits.minSide}x${limits.minSide} pixels. Upload a larger image, or use another model provider for it.`,
      { details: { width: ow, height: oh, minSide: limits.minSide, provider: 'azure-ai-vision' } },
    );
  }
  let { width, height } = image;
  let bytes = image.jpeg;
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  let scale = 1;
  if (short < limits.minSide) scale = limits.minSide / short;
  if (long * scale > limits.maxSide) scale = limits.maxSide / long;
  if (Math.min(width, height) * scale < limits.minSide) {
    throw new PermanentError(
      'invalid_image',
      `The image is ${ow}x${oh} pixels, too long and thin to fit Azure AI Vision's limits (${limits.minSide} to ${limits.maxSide} pixels per side) at any scale.`,
      { details: { width: ow, height: oh, minSide: limits.minSide, maxSide: limits.maxSide, provider: 'azure-ai-vision' } },
    );
  }
  if (scale !== 1) {
    width = Math.max(limits.minSide, Math.min(limits.maxSide, Math.round(width * scale)));
    height = Math.max(limits.minSide, Math.min(limits.maxSide, Math.round(height * scale)));
    bytes = await sharp(bytes).resize(width, height, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
  }
  // Over the byte limit: lower the JPEG quality first, then halve the size, while the short side stays in range.
  for (const [factor, quality] of SHRINK_STEPS) {
    if (bytes.length <= limits.maxBytes) break;
    const w = Math.round(width * factor);
    const h = Math.round(height * factor);
    if (Math.min(w, h) < limits.minSide) break;
    bytes = await sharp(bytes).resize(w, h, { fit: 'fill' }).jpeg({ quality }).toBuffer();
    width = w;
    height = h;
  }
  if (bytes.length > limits.maxBytes) {
    throw new PermanentError('too_large', `The image could not be encoded under Azure AI Vision's ${limits.maxBytes + 1}-byte limit.`, { details: { bytes: bytes.length, maxBytes: limits.maxBytes } });
  }
  return { bytes, width, height };
}
