/** Checks one `image_url` content part the way the vision service does, and reads the facts that price it. */
import sharp from 'sharp';

import { IMAGE_DETAILS, IMAGE_MIME_TYPES, MAX_IMAGE_BYTES } from './serviceContract';
import { invalidRequest } from './serviceError';

export interface ImageInfo {
  mime: string;
  bytes: number;
  width: number;
  height: number;
  detail: 'low' | 'high' | 'auto';
}

const UNSUPPORTED_FORMAT =
  "You uploaded an unsupported image. Please make sure your image has of one the following formats: ['png', 'jpeg', 'gif', 'webp'].";
const NOT_AN_IMAGE =
  "The image data you provided does not represent a valid image. Please check your input and try again with one of the supported image formats: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'].";

const MAGIC: Record<string, (b: Buffer) => boolean> = {
  'image/jpeg': (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/gif': (b) => ['GIF87a', 'GIF89a'].includes(b.subarray(0, 6).toString('latin1')),
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
};

/** `param` is the JSON path of the part, e.g. `messages[1].content[0]`, quoted in the error like the service does. */
/** Sizes of small images that decoded cleanly, by their base64 (a corrupt image is never remembered). */
const decoded = new Map<string, { width: number; height: number }>();

export async function inspectImage(imageUrl: unknown, param: string): Promise<ImageInfo> {
  if (typeof imageUrl !== 'object' || imageUrl === null || Array.isArray(imageUrl)) {
    throw invalidRequest(`Invalid type for '${param}.image_url': expected an object, but got ${typeName(imageUrl)} instead.`, `${param}.image_url`, 'invalid_type');
  }
  const fields = imageUrl as Record<string, unknown>;
  const extra = Object.keys(fields).find((k) => k !== 'url' && k !== 'detail');
  if (extra !== undefined) {
    throw invalidRequest(`Unrecognized request argument supplied: ${param}.image_url.${extra}`, `${param}.image_url.${extra}`, 'unknown_parameter');
  }
  const url = fields['url'];
  const urlParam = `${param}.image_url.url`;
  if (url === undefined) throw invalidRequest(`Missing required parameter: '${urlParam}'.`, urlParam, 'missing_required_parameter');
  if (typeof url !== 'string') {
    throw invalidRequest(`Invalid type for '${urlParam}': expected a string, but got ${typeName(url)} instead.`, urlParam, 'invalid_type');
  }
  const detail = fields['detail'] ?? 'auto';
  if (typeof detail !== 'string' || !(IMAGE_DETAILS as readonly string[]).includes(detail)) {
    throw invalidRequest(
      `Invalid value: ${JSON.stringify(detail)}. Supported values are: 'auto', 'low', and 'high'.`,
      `${param}.image_url.detail`,
      'invalid_value',
    );
  }

  // The real service would download an http(s) URL; in this project's setup it never fetches (images go inline),
  // so a URL here is a bug in the caller and the fake refuses it rather than pretend to download.
  if (/^https?:/i.test(url)) {
    throw invalidRequest(
      `Invalid '${urlParam}': expected a base64-encoded data URL (data:image/<jpeg|png|gif|webp>;base64,...); this setup never lets the service fetch images over HTTP.`,
      urlParam,
      'invalid_image_url',
    );
  }
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (match === null) {
    throw invalidRequest(
      `Invalid '${urlParam}'. Expected a base64-encoded data URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got an invalid value.`,
      urlParam,
      'invalid_value',
    );
  }
  const mime = (match[1] ?? '').toLowerCase();
  const base64 = match[2] ?? '';
  if (!(IMAGE_MIME_TYPES as readonly string[]).includes(mime)) throw invalidRequest(UNSUPPORTED_FORMAT, urlParam, 'invalid_image_format');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 === 1) {
    throw invalidRequest(`Invalid '${urlParam}': the data URL does not hold valid base64.`, urlParam, 'invalid_value');
  }
  // Size from the base64 length first, so a huge payload is refused before it is decoded.
  const bytes = Math.floor((base64.length * 3) / 4) - (base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0);
  if (bytes > MAX_IMAGE_BYTES) {
    throw invalidRequest(
      `You uploaded an unsupported image. Please make sure your image is below 20 MB in size and is of one the following formats: ['png', 'jpeg', 'gif', 'webp']. (got ${bytes} bytes)`,
      urlParam,
      'image_too_large',
    );
  }
  const data = Buffer.from(base64, 'base64');
  const looksLike = MAGIC[mime];
  if (looksLike === undefined || !looksLike(data)) {
    const actual = Object.keys(MAGIC).find((m) => MAGIC[m]?.(data) === true);
    throw invalidRequest(`${NOT_AN_IMAGE} (the data URL says ${mime}, the bytes are ${actual ?? 'not a supported image'})`, urlParam, 'invalid_image');
  }
  // A burst benchmark sends the same small image thousands of times: decode each distinct one once.
  const known = decoded.get(base64);
  if (known !== undefined) return { mime, bytes: data.length, ...known, detail: detail as ImageInfo['detail'] };
  try {
    const image = sharp(data, { failOn: 'error' });
    const { width, height } = await image.metadata();
    // Decode the pixels too: a truncated or corrupt body passes a header check but not the model's decoder.
    await image.stats();
    if (!width || !height) throw new Error('no dimensions');
    if (base64.length <= 65_536) {
      if (decoded.size >= 64) decoded.clear();
      decoded.set(base64, { width, height });
    }
    return { mime, bytes: data.length, width, height, detail: detail as ImageInfo['detail'] };
  } catch {
    throw invalidRequest(NOT_AN_IMAGE, urlParam, 'invalid_image');
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
