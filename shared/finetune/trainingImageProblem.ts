/** Whether one source image may go into a vision fine-tuning file, by Azure's rules; the message names the image. */
import sharp from 'sharp';

import { sniffImageFormat } from '../preprocess/sniffImageFormat';
import { ACCEPTED_CONTAINERS, MAX_IMAGE_BYTES } from './visionFineTuningRules';

/**
 * The source image is checked, not only the copy written to the file: a GIF or an over-limit photo in a dataset is
 * the user's to convert or leave out, and silently re-encoding it would train on something nobody reviewed.
 */
export async function trainingImageProblem(name: string, bytes: Buffer): Promise<string | undefined> {
  const sniffed = sniffImageFormat(bytes);
  if (sniffed.kind !== 'image') return `${name}: not an image Azure OpenAI vision fine-tuning accepts (${sniffed.kind === 'other' ? sniffed.label : 'unknown format'}); use JPEG, PNG or WebP.`;
  if (!ACCEPTED_CONTAINERS.has(sniffed.container)) return `${name}: ${sniffed.container.toUpperCase()} is not accepted by Azure OpenAI vision fine-tuning (JPEG, PNG or WebP only); convert it or leave it out.`;
  if (bytes.length > MAX_IMAGE_BYTES) return `${name}: ${(bytes.length / 1024 / 1024).toFixed(1)} MB is over Azure OpenAI vision fine-tuning's 10 MB per image.`;
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    // RGB or RGBA only: sharp reports greyscale as b-w / 1-2 channels and CMYK as its own space.
    if (meta.space === 'cmyk' || (meta.channels ?? 3) < 3) return `${name}: colour mode ${meta.space ?? 'unknown'} with ${meta.channels ?? '?'} channel(s); Azure OpenAI vision fine-tuning needs RGB or RGBA.`;
  } catch (e) {
    return `${name}: the image cannot be decoded (${e instanceof Error ? e.message : String(e)}).`;
  }
  return undefined;
}
