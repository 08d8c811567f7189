/** Names what a blob really is from its first bytes, so only known image containers ever reach a decoder. */

/** Image containers we hand to sharp; `heif` covers both HEIC and AVIF (sharp tells them apart by codec). */
export type ImageContainer = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'heif';

export type SniffResult =
  | { kind: 'image'; container: ImageContainer }
  /** Recognised, but not an image we accept: `label` is for people ("SVG"), `detected` for machines ("svg"). */
  | { kind: 'other'; detected: string; label: string }
  | { kind: 'unknown' };

// ISO-BMFF brands that mark a HEIF still image (HEIC, AVIF and the generic MIAF/HEIF brands).
const HEIF_BRANDS = new Set([
  'heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs',
  'mif1', 'mif2', 'msf1', 'miaf', 'avif', 'avis', 'avio',
]);

// How much of the start we read: enough for an ftyp box, an XML prolog and a few lines of text.
const HEAD_BYTES = 1024;

function startsWith(bytes: Buffer, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) {
    return false;
  }
  return signature.every((b, i) => bytes[offset + i] === b);
}

function ascii(bytes: Buffer, start: number, end: number): string {
  return bytes.subarray(start, Math.min(end, bytes.length)).toString('latin1');
}

function isoBrands(bytes: Buffer): string[] | undefined {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== 'ftyp') {
    return undefined;
  }
  const boxSize = Math.min(bytes.readUInt32BE(0), bytes.length, HEAD_BYTES);
  const brands = [ascii(bytes, 8, 12)];
  // Compatible brands follow the major brand and its 4-byte minor version.
  for (let at = 16; at + 4 <= boxSize; at += 4) {
    brands.push(ascii(bytes, at, at + 4));
  }
  return brands;
}

/** Text-like head: markup we can name, else printable text, else undefined. */
function sniffText(bytes: Buffer): SniffResult | undefined {
  let text = bytes.subarray(0, HEAD_BYTES).toString('utf8');
  text = text.replace(/^\uFEFF/, '').trimStart().toLowerCase();
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg')) || /^<!doctype svg/.test(text)) {
    return { kind: 'other', detected: 'svg', label: 'SVG' };
  }
  if (/^<!doctype html|^<html|^<head|^<body/.test(text) || (text.startsWith('<!--') && text.includes('<html'))) {
    return { kind: 'other', detected: 'html', label: 'HTML' };
  }
  if (text.startsWith('<?xml')) {
    return { kind: 'other', detected: 'xml', label: 'XML' };
  }
  if (text.startsWith('{') || text.startsWith('[')) {
    return looksPrintable(text) ? { kind: 'other', detected: 'json', label: 'JSON text' } : undefined;
  }
  return looksPrintable(text) ? { kind: 'other', detected: 'text', label: 'Plain text' } : undefined;
}

function looksPrintable(text: string): boolean {
  if (text.length === 0) {
    return false;
  }
  // U+FFFD means the bytes were not UTF-8; control characters other than whitespace mean binary.
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text);
}

/**
 * Identifies the container from magic numbers only; names and content types are never trusted. Anything not on
 * the allow-list is reported as `other` (with a name when we know one) or `unknown`, and is never decoded: SVG
 * in particular would otherwise be rendered by librsvg, which is a needless attack surface for a photo service.
 */
export function sniffImageFormat(bytes: Buffer): SniffResult {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) {
    return { kind: 'image', container: 'jpeg' };
  }
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { kind: 'image', container: 'png' };
  }
  const head6 = ascii(bytes, 0, 6);
  if (head6 === 'GIF87a' || head6 === 'GIF89a') {
    return { kind: 'image', container: 'gif' };
  }
  if (ascii(bytes, 0, 4) === 'RIFF') {
    const riffType = ascii(bytes, 8, 12);
    return riffType === 'WEBP'
      ? { kind: 'image', container: 'webp' }
      : { kind: 'other', detected: `riff-${riffType.trim().toLowerCase()}`, label: `RIFF ${riffType.trim()} media` };
  }
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { kind: 'image', container: 'tiff' };
  }
  const brands = isoBrands(bytes);
  if (brands !== undefined) {
    return brands.some((b) => HEIF_BRANDS.has(b))
      ? { kind: 'image', container: 'heif' }
      : { kind: 'other', detected: 'iso-media', label: `MP4/QuickTime media (brand "${brands[0]?.trim() ?? ''}")` };
  }
  return sniffOther(bytes) ?? sniffText(bytes) ?? { kind: 'unknown' };
}

/** Well-known non-image signatures, so the refusal can say what the file actually is. */
function sniffOther(bytes: Buffer): SniffResult | undefined {
  const known: readonly (readonly [readonly number[], string, string])[] = [
    [[0x25, 0x50, 0x44, 0x46, 0x2d], 'pdf', 'PDF'],
    [[0x50, 0x4b, 0x03, 0x04], 'zip', 'ZIP archive'],
    [[0x50, 0x4b, 0x05, 0x06], 'zip', 'ZIP archive'],
    [[0x1f, 0x8b], 'gzip', 'gzip archive'],
    [[0x00, 0x00, 0x01, 0x00], 'ico', 'ICO'],
    [[0x38, 0x42, 0x50, 0x53], 'psd', 'Photoshop PSD'],
    [[0xff, 0x0a], 'jxl', 'JPEG XL'],
    [[0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20], 'jxl', 'JPEG XL'],
    [[0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20], 'jp2', 'JPEG 2000'],
    [[0x7f, 0x45, 0x4c, 0x46], 'executable', 'An executable'],
  ];
  // "BM" alone is too weak (a text file may start so); a BMP header also has four reserved zero bytes at 6.
  if (startsWith(bytes, [0x42, 0x4d]) && startsWith(bytes, [0, 0, 0, 0], 6)) {
    return { kind: 'other', detected: 'bmp', label: 'BMP' };
  }
  for (const [signature, detected, label] of known) {
    if (startsWith(bytes, signature)) {
      return { kind: 'other', detected, label };
    }
  }
  return undefined;
}
