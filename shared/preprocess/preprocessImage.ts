/** Turns untrusted image bytes into the upright, metadata-free JPEG the model is sent, refusing what is unsafe. */

import { createHash } from 'node:crypto';

import sharp from 'sharp';

import { PermanentError } from '../errors';
import type { ImageDetail, ImageSize } from './imageTokens';
import { estimateImageTokens, resolveDetail, targetSize } from './imageTokens';
import type { PreprocessedImage, SupportedFormat } from './preprocessedImage';
import type { ImageContainer } from './sniffImageFormat';
import { sniffImageFormat } from './sniffImageFormat';
import { stripJpegMetadata } from './stripJpegMetadata';

export interface PreprocessOptions {
  /** Detail to ask of the model; `auto` is resolved here from the image size (see `resolveDetail`). */
  detail: ImageDetail;
  /** Largest accepted input, in bytes; checked before anything is parsed. */
  maxBytes: number;
  /** Largest accepted width x height of the (first frame of the) input; checked from the header before decoding. */
  maxPixels: number;
}

const ACCEPTED_LIST = 'JPEG, PNG, WebP, GIF, TIFF, AVIF, HEIF';
const ACCEPTED_SENTENCE = 'upload a JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIF image';
const JPEG_QUALITY = 85;
const WHITE = { r: 255, g: 255, b: 255 };

/**
 * 'error' refuses truncated and structurally broken data (a cut-off JPEG would otherwise decode half grey, a bad
 * PNG CRC would be ignored) but tolerates the harmless warnings many real cameras and phones produce, which
 * sharp's stricter default 'warning' would turn into rejections of photos every viewer opens fine.
 */
const FAIL_ON = 'error';

const CONTAINER_LABEL: Record<ImageContainer, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  gif: 'GIF',
  tiff: 'TIFF',
  heif: 'HEIF',
};

const FORMAT_LABEL: Record<SupportedFormat, string> = { ...CONTAINER_LABEL, heif: 'HEIC', avif: 'AVIF' };

/**
 * Checks size, sniffs the real format, refuses decompression bombs from the header, then decodes only the first
 * frame (GIF/WebP animations, multi-page TIFF; the primary image of a HEIF), turns it upright from EXIF, flattens
 * transparency onto white, converts to 8-bit sRGB, shrinks it to what `detail` needs and encodes a JPEG without any
 * metadata. Every bad input ends in a `PermanentError` whose code says why; nothing here is worth retrying.
 */
export async function preprocessImage(bytes: Buffer, options: PreprocessOptions): Promise<PreprocessedImage> {
  assertOptions(options);
  if (bytes.length === 0) {
    throw new PermanentError('empty_blob', 'The file is empty (0 bytes); upload the image again.', {
      details: { bytes: 0 },
    });
  }
  if (bytes.length > options.maxBytes) {
    throw new PermanentError(
      'too_large',
      `The file is ${formatBytes(bytes.length)}, more than the ${formatBytes(options.maxBytes)} limit; ` +
        'upload a smaller or more compressed image.',
      { details: { bytes: bytes.length, maxBytes: options.maxBytes } },
    );
  }

  const container = acceptedContainer(bytes);
  const header = await readHeader(bytes, container);
  const format = supportedFormat(container, header);
  // Upright dimensions: a phone photo stored sideways is reported (and sized) the way people see it.
  const { width, height } = header.autoOrient;
  const pixels = width * height;
  if (pixels > options.maxPixels) {
    throw new PermanentError(
      'too_many_pixels',
      `The image is ${width}x${height} pixels (${formatMegapixels(pixels)}), more than the ` +
        `${formatMegapixels(options.maxPixels)} limit; resize it before uploading.`,
      { details: { format, width, height, pixels, maxPixels: options.maxPixels } },
    );
  }

  const detail = resolveDetail(width, height, options.detail);
  const target = targetSize(width, height, detail);
  const { data, info } = await render(bytes, { format, header, target, maxPixels: options.maxPixels });
  return {
    jpeg: smallerOriginal(bytes, format, header, target, data) ?? data,
    detail,
    width: info.width,
    height: info.height,
    estimatedImageTokens: estimateImageTokens(info.width, info.height, detail),
    original: {
      width,
      height,
      format,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
    },
  };
}

function assertOptions(options: PreprocessOptions): void {
  for (const name of ['maxBytes', 'maxPixels'] as const) {
    const value = options[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`preprocessImage: ${name} must be a positive integer, got ${String(value)}.`);
    }
  }
}

/** The sniffed container, if it is one we accept and this sharp build can read from a buffer. */
function acceptedContainer(bytes: Buffer): ImageContainer {
  const sniffed = sniffImageFormat(bytes);
  if (sniffed.kind === 'other') {
    throw new PermanentError('unsupported_format', `${sniffed.label} is not accepted; ${ACCEPTED_SENTENCE}.`, {
      details: { detected: sniffed.detected, accepted: ACCEPTED_LIST },
    });
  }
  if (sniffed.kind === 'unknown') {
    throw new PermanentError('unsupported_format', `The bytes are not a supported image (${ACCEPTED_LIST}).`, {
      details: { detected: 'unknown', magic: bytes.subarray(0, 8).toString('hex'), accepted: ACCEPTED_LIST },
    });
  }
  if (!sharp.format[sniffed.container].input.buffer) {
    throw new PermanentError(
      'unsupported_format',
      `${CONTAINER_LABEL[sniffed.container]} images cannot be decoded by this server's image library; ` +
        `${ACCEPTED_SENTENCE} in another format.`,
      { details: { detected: sniffed.container, accepted: ACCEPTED_LIST } },
    );
  }
  return sniffed.container;
}

/**
 * Reads only the header. The pixel limit is off here on purpose: we compare the dimensions ourselves so the
 * refusal can state them; decoding below still enforces the limit in libvips.
 */
async function readHeader(bytes: Buffer, container: ImageContainer): Promise<sharp.Metadata> {
  let header: sharp.Metadata;
  try {
    header = await sharp(bytes, { failOn: FAIL_ON, limitInputPixels: false }).metadata();
  } catch (e) {
    throw corrupt(CONTAINER_LABEL[container], container, e);
  }
  if (header.format !== container) {
    // The magic number said one thing and the decoder found another: not a file we understand.
    throw new PermanentError(
      'unsupported_format',
      `The bytes are not a supported image (${ACCEPTED_LIST}); they start like ${CONTAINER_LABEL[container]} ` +
        `but decode as ${header.format}.`,
      { details: { detected: header.format, sniffed: container, accepted: ACCEPTED_LIST } },
    );
  }
  if (!(header.width >= 1 && header.height >= 1)) {
    throw corrupt(CONTAINER_LABEL[container], container, new Error(`header gives ${header.width}x${header.height}`));
  }
  return header;
}

/** HEIF is one container for two codecs: AV1 (AVIF) and HEVC (HEIC). */
function supportedFormat(container: ImageContainer, header: sharp.Metadata): SupportedFormat {
  if (container !== 'heif') {
    return container;
  }
  return header.compression === 'av1' ? 'avif' : 'heif';
}

interface RenderPlan {
  format: SupportedFormat;
  header: sharp.Metadata;
  target: ImageSize;
  maxPixels: number;
}

async function render(bytes: Buffer, plan: RenderPlan): Promise<{ data: Buffer; info: sharp.OutputInfo }> {
  const { format, header, target, maxPixels } = plan;
  // No `pages`/`page`: libvips then loads only the first frame (GIF, WebP, TIFF) and, for HEIF, the primary image,
  // which `page: 0` would not guarantee. `limitInputPixels` re-checks inside libvips so a header that lies about
  // its size cannot make the decoder allocate more; `sequentialRead` streams rows instead of holding the whole image
  // where the operations allow it, and JPEG/WebP shrink-on-load means a big photo is never decoded at full size.
  let pipeline = sharp(bytes, {
    failOn: FAIL_ON,
    limitInputPixels: maxPixels,
    sequentialRead: true,
    autoOrient: true,
  })
    .flatten({ background: WHITE })
    .toColourspace('srgb');
  if (target.width !== header.autoOrient.width || target.height !== header.autoOrient.height) {
    // targetSize kept the aspect ratio and rounded each side; `fill` hits those exact pixels, so the token estimate
    // describes the very image we send.
    pipeline = pipeline.resize(target.width, target.height, { fit: 'fill' });
  }
  // Output keeps no metadata (sharp's default): EXIF with GPS, ICC, XMP and IPTC are all dropped here.
  pipeline = pipeline.jpeg({ quality: JPEG_QUALITY, mozjpeg: false });
  try {
    return await pipeline.toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw decodeFailure(format, header, maxPixels, e);
  }
}

/**
 * The original JPEG with its metadata stripped, when it already is exactly what the model is sent (the target size,
 * upright, 8-bit sRGB) and that copy is smaller than our re-encode: re-encoding at quality 85 a frame a camera
 * wrote at a lower quality only adds bytes (1280x720 dashcam frames grew 1.23x at detail high) and a generation
 * of loss. The re-encode still ran, so a damaged file has already been refused.
 */
function smallerOriginal(bytes: Buffer, format: SupportedFormat, header: sharp.Metadata, target: ImageSize, encoded: Buffer): Buffer | undefined {
  const asIs =
    format === 'jpeg' &&
    (header.orientation === undefined || header.orientation === 1) &&
    target.width === header.width &&
    target.height === header.height &&
    header.space === 'srgb' &&
    header.channels === 3 &&
    header.depth === 'uchar' &&
    (header.icc === undefined || isSrgbProfile(header.icc));
  if (!asIs) return undefined;
  const stripped = stripJpegMetadata(bytes);
  return stripped !== undefined && stripped.length < encoded.length ? stripped : undefined;
}

/**
 * An ICC profile describing sRGB, the colour space the model assumes for an untagged JPEG; its description says so
 * in ASCII (ICC v2 `desc`) or UTF-16BE (v4 `mluc`). Any other profile (Display P3, Adobe RGB) is converted by the
 * re-encode instead, or the colours would shift once the profile is dropped.
 */
function isSrgbProfile(icc: Buffer): boolean {
  return icc.includes('sRGB', 0, 'latin1') || icc.includes(Buffer.from('\0s\0R\0G\0B', 'latin1'));
}

function decodeFailure(format: SupportedFormat, header: sharp.Metadata, maxPixels: number, e: unknown): PermanentError {
  const reason = reasonOf(e);
  if (/exceeds pixel limit/i.test(reason)) {
    return new PermanentError(
      'too_many_pixels',
      `The image has more than the ${formatMegapixels(maxPixels)} limit once decoded; resize it before uploading.`,
      { cause: e, details: { format, width: header.width, height: header.height, maxPixels, reason } },
    );
  }
  if (header.compression === 'hevc' && /not been built in|plugin|unsupported|no decoder/i.test(reason)) {
    return new PermanentError(
      'unsupported_format',
      'HEIC images coded with HEVC cannot be decoded by this server; convert the image to JPEG (or set the ' +
        'camera to "Most Compatible") and upload it again.',
      { cause: e, details: { detected: 'heif', compression: 'hevc', accepted: ACCEPTED_LIST, reason } },
    );
  }
  return corrupt(FORMAT_LABEL[format], format, e);
}

function corrupt(label: string, format: string, e: unknown): PermanentError {
  return new PermanentError(
    'corrupt_image',
    `The ${label} image is damaged or truncated and cannot be read; upload the original file again.`,
    { cause: e, details: { format, reason: reasonOf(e) } },
  );
}

/** The decoder's own words, kept short for the stored document; libheif's seek retries are noise. */
function reasonOf(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('source: bad seek'));
  return lines.join('; ').slice(0, 300);
}

function formatBytes(n: number): string {
  if (n < 1024) {
    return `${n} bytes`;
  }
  const units = ['KiB', 'MiB', 'GiB'] as const;
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function formatMegapixels(pixels: number): string {
  // Small limits (tests, thumbnails-only deployments) would all read "0.0 megapixels".
  return pixels < 100_000 ? `${pixels} pixels` : `${(pixels / 1_000_000).toFixed(1)} megapixels`;
}
