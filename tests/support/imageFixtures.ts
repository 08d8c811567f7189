/** Test images generated on the fly (nothing opaque is committed): ordinary formats, odd-but-valid and hostile bytes. */

import { crc32, deflateSync } from 'node:zlib';

import sharp from 'sharp';

import type { ErrorCode } from '../../shared/errors';

export interface SolidOptions {
  /** Any CSS colour sharp understands; default a mid blue. */
  colour?: string;
  /** Gaussian noise instead of a flat colour: makes files big and compression realistic. */
  noise?: boolean;
}

export interface JpegOptions extends SolidOptions {
  quality?: number;
}

const DEFAULT_COLOUR = '#3366cc';

function solid(width: number, height: number, options: SolidOptions = {}): sharp.Sharp {
  const background = options.colour ?? DEFAULT_COLOUR;
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background,
      ...(options.noise === true ? { noise: { type: 'gaussian' as const, mean: 128, sigma: 60 } } : {}),
    },
  });
}

// ---------------------------------------------------------------- ordinary formats (all must be accepted)

/** A baseline JPEG: the common case. */
export async function jpeg(width = 64, height = 48, options: JpegOptions = {}): Promise<Buffer> {
  return solid(width, height, options).jpeg({ quality: options.quality ?? 90 }).toBuffer();
}

/** An 8-bit RGB PNG. */
export async function png(width = 64, height = 48, options: SolidOptions = {}): Promise<Buffer> {
  return solid(width, height, options).png().toBuffer();
}

/** A still lossy WebP. */
export async function webp(width = 64, height = 48, options: SolidOptions = {}): Promise<Buffer> {
  return solid(width, height, options).webp().toBuffer();
}

/** A TIFF (little-endian, as sharp writes it). */
export async function tiff(width = 64, height = 48, options: SolidOptions = {}): Promise<Buffer> {
  return solid(width, height, options).tiff().toBuffer();
}

/** An AVIF: a HEIF container with the AV1 codec, which this sharp build decodes. */
export async function avif(width = 64, height = 48, options: SolidOptions = {}): Promise<Buffer> {
  return solid(width, height, options).avif().toBuffer();
}

/** Frame colours of `gif()` and `animatedWebp()`: a test can check that only the first frame is used. */
export const ANIMATION_FRAME_COLOURS = ['#ff0000', '#0000ff'] as const;

async function frames(width: number, height: number): Promise<Buffer[]> {
  return Promise.all(ANIMATION_FRAME_COLOURS.map(async (colour) => solid(width, height, { colour }).png().toBuffer()));
}

/** An animated GIF with a red frame then a blue frame. */
export async function gif(width = 32, height = 32): Promise<Buffer> {
  return sharp(await frames(width, height), { join: { animated: true } })
    .gif({ delay: [200, 200], loop: 0 })
    .toBuffer();
}

/** An animated WebP with a red frame then a blue frame. */
export async function animatedWebp(width = 32, height = 32): Promise<Buffer> {
  return sharp(await frames(width, height), { join: { animated: true } })
    .webp({ delay: [200, 200], loop: 0, lossless: true })
    .toBuffer();
}

/** Colours of a labelled-colour image, for tests where the "right answer" is the colour the image shows. */
export const LABEL_COLOURS = {
  red: '#ff0000',
  green: '#00ff00',
  blue: '#0000ff',
  yellow: '#ffff00',
  black: '#000000',
  white: '#ffffff',
} as const;

export type ColourLabel = keyof typeof LABEL_COLOURS;

/** A solid image whose only content is the colour `label`, in any accepted format. */
export async function labelledColour(
  label: ColourLabel,
  options: { width?: number; height?: number; format?: 'jpeg' | 'png' | 'webp' } = {},
): Promise<Buffer> {
  const image = solid(options.width ?? 64, options.height ?? 64, { colour: LABEL_COLOURS[label] });
  switch (options.format ?? 'png') {
    case 'jpeg':
      return image.jpeg({ quality: 95 }).toBuffer();
    case 'webp':
      return image.webp({ lossless: true }).toBuffer();
    case 'png':
      return image.png().toBuffer();
  }
}

// ---------------------------------------------------------------- odd but valid (accepted, with care)

/** Colour of the true top of `exifRotatedJpeg()` and of the rest of it, and its upright size. */
export const EXIF_TOP_COLOUR = '#ff0000';
export const EXIF_REST_COLOUR = '#00ff00';
export const EXIF_UPRIGHT = { width: 40, height: 60 } as const;

/**
 * A portrait photo stored sideways, as phones do: the pixels are 60x40 and EXIF Orientation (6 = rotate 90° clockwise
 * to view, 8 = 90° anticlockwise) says how to show it. Upright it is 40x60 with its top third red, the rest green,
 * so a test can check the output's top rows are red.
 */
export async function exifRotatedJpeg(orientation: 6 | 8 = 6): Promise<Buffer> {
  const { width, height } = EXIF_UPRIGHT;
  const top = await solid(width, Math.round(height / 3), { colour: EXIF_TOP_COLOUR }).png().toBuffer();
  const upright = await solid(width, height, { colour: EXIF_REST_COLOUR })
    .composite([{ input: top, top: 0, left: 0 }])
    .png()
    .toBuffer();
  // Store the inverse of what the viewer will apply, so that applying the tag gives back the upright picture.
  return sharp(upright)
    .rotate(orientation === 6 ? 270 : 90)
    .jpeg({ quality: 95 })
    .withMetadata({ orientation })
    .toBuffer();
}

/** A CMYK JPEG (print workflows): must come out as 3-channel sRGB. */
export async function cmykJpeg(width = 64, height = 48, colour = '#ff0000'): Promise<Buffer> {
  return solid(width, height, { colour }).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
}

/** A 16-bit-per-channel PNG: must come out as an 8-bit JPEG. */
export async function png16bit(width = 64, height = 48, colour = '#3366cc'): Promise<Buffer> {
  return solid(width, height, { colour }).toColourspace('rgb16').png().toBuffer();
}

/** A single-channel greyscale PNG: must come out as 3-channel sRGB. */
export async function grayscalePng(width = 64, height = 48): Promise<Buffer> {
  return solid(width, height, { colour: '#808080' }).toColourspace('b-w').png().toBuffer();
}

/** Colour of the opaque right half of `alphaPng()`; its left half is fully transparent black. */
export const ALPHA_OPAQUE_COLOUR = '#0000ff';

/** An RGBA PNG, left half transparent black, right half opaque blue: transparency must turn white, not black. */
export async function alphaPng(width = 32, height = 16): Promise<Buffer> {
  const half = Math.floor(width / 2);
  const right = await solid(width - half, height, { colour: ALPHA_OPAQUE_COLOUR }).png().toBuffer();
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([{ input: right, top: 0, left: half }])
    .png()
    .toBuffer();
}

/** The smallest possible image, 1x1: sizing must not round to zero. */
export async function onePixel(): Promise<Buffer> {
  return png(1, 1, { colour: '#ff8800' });
}

/** A very long, thin image (a panorama strip): sizing must keep both sides at least 1 pixel. */
export async function extremeAspect(width = 10000, height = 10): Promise<Buffer> {
  return png(width, height);
}

/** A JPEG, followed by a ZIP and an HTML page: still a valid JPEG, and the appended payload must not survive. */
export async function polyglot(): Promise<Buffer> {
  return Buffer.concat([await jpeg(64, 48), await zipBytes(), await htmlBytes()]);
}

/**
 * A valid JPEG larger than `n` bytes, padded with COM (comment) segments right after SOI, which decoders skip:
 * the size check must refuse it before any decoding.
 */
export async function overBytes(n: number): Promise<Buffer> {
  const base = await jpeg(16, 16);
  const needed = n + 1 - base.length;
  const segments: Buffer[] = [];
  const maxPayload = 0xffff - 2;
  for (let remaining = needed; remaining > 0; remaining -= maxPayload + 4) {
    const payload = Math.max(0, Math.min(maxPayload, remaining - 4));
    const segment = Buffer.alloc(payload + 4, 0x20);
    segment.writeUInt16BE(0xfffe, 0);
    segment.writeUInt16BE(payload + 2, 2);
    segments.push(segment);
  }
  return Buffer.concat([base.subarray(0, 2), ...segments, base.subarray(2)]);
}

// ---------------------------------------------------------------- damaged or hostile (all must be refused)

/** A noisy JPEG cut off at 60%: scan data ends early, which must be refused rather than decoded half grey. */
export async function truncatedJpeg(): Promise<Buffer> {
  const whole = await jpeg(256, 256, { noise: true });
  return whole.subarray(0, Math.floor(whole.length * 0.6));
}

/** A PNG whose IDAT chunk CRC is wrong: a damaged download. */
export async function pngWithBadCrc(): Promise<Buffer> {
  const bytes = Buffer.from(await png(64, 48, { noise: true }));
  const idat = bytes.indexOf('IDAT', 8, 'latin1');
  const length = bytes.readUInt32BE(idat - 4);
  const crcAt = idat + 4 + length;
  bytes.writeUInt32BE((bytes.readUInt32BE(crcAt) ^ 0xffffffff) >>> 0, crcAt);
  return bytes;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(typeAndData.length + 8);
  out.writeUInt32BE(data.length, 0);
  typeAndData.copy(out, 4);
  out.writeUInt32BE(crc32(typeAndData), typeAndData.length + 4);
  return out;
}

/**
 * A decompression bomb: a tiny PNG whose valid header (correct CRC) declares `width` x `height` RGB pixels,
 * 30 GB at 100000x100000. It must be refused from the header, never decoded.
 */
export async function pngBomb(width = 100_000, height = 100_000): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  // A few zero rows compress to almost nothing, so the file stays tiny whatever the declared size.
  const idat = deflateSync(Buffer.alloc(64 * 1024));
  return Promise.resolve(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pngChunk('IHDR', ihdr),
      pngChunk('IDAT', idat),
      pngChunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

/**
 * The same trick in a JPEG: a small real JPEG whose frame header (SOF) is rewritten to declare `width` x `height`
 * (at most 65535 each); the scan data is that of the small image, so decoding could only fail or explode.
 */
export async function jpegBomb(width = 65_000, height = 65_000): Promise<Buffer> {
  const bytes = Buffer.from(await jpeg(16, 16));
  // Walk the marker segments after SOI until the baseline/extended/progressive frame header.
  for (let at = 2; at + 9 < bytes.length; at += 2 + bytes.readUInt16BE(at + 2)) {
    const marker = bytes[at + 1] ?? 0;
    if (marker >= 0xc0 && marker <= 0xc2) {
      bytes.writeUInt16BE(height, at + 5);
      bytes.writeUInt16BE(width, at + 7);
      return bytes;
    }
  }
  throw new Error('jpegBomb: no frame header found in the generated JPEG');
}

function u8(n: number): Buffer {
  return Buffer.from([n]);
}
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([u32(body.length + 8), Buffer.from(type, 'latin1'), body]);
}
function fullBox(type: string, version: number, ...parts: Buffer[]): Buffer {
  return box(type, u8(version), Buffer.from([0, 0, 0]), ...parts);
}

/**
 * An iPhone-style HEIC (HEIF container, HEVC codec) with a well-formed header and a stand-in bitstream. This sharp
 * build has no HEVC decoder (patents), so the file must be refused as unsupported, naming HEIC, not as corrupt.
 */
export async function heicHevc(width = 640, height = 480): Promise<Buffer> {
  const ftyp = box('ftyp', Buffer.from('heic', 'latin1'), u32(0), Buffer.from('mif1heic', 'latin1'));
  const hdlr = fullBox('hdlr', 0, u32(0), Buffer.from('pict', 'latin1'), u32(0), u32(0), u32(0), u8(0));
  const pitm = fullBox('pitm', 0, u16(1));
  const iinf = fullBox('iinf', 0, u16(1), fullBox('infe', 2, u16(1), u16(0), Buffer.from('hvc1', 'latin1'), u8(0)));
  // HEVCDecoderConfigurationRecord: version 1, Main profile, level 3, 4:2:0, 8-bit, 4-byte NAL lengths, no arrays.
  const hvcC = box('hvcC', u8(1), u8(0x01), u32(0x60000000), Buffer.alloc(6), u8(90), u16(0xf000), u8(0xfc),
    u8(0xfd), u8(0xf8), u8(0xf8), u16(0), u8(0x0f), u8(0));
  const ispe = fullBox('ispe', 0, u32(width), u32(height));
  // Item 1 has property 1 (hvcC, essential) and property 2 (ispe).
  const iprp = box('iprp', box('ipco', hvcC, ispe), fullBox('ipma', 0, u32(1), u16(1), u8(2), u8(0x81), u8(0x02)));
  const payload = Buffer.from([0, 0, 0, 4, 0x26, 0x01, 0xaf, 0x00]);
  const iloc = (offset: number): Buffer =>
    fullBox('iloc', 0, u8(0x44), u8(0x00), u16(1), u16(1), u16(0), u16(1), u32(offset), u32(payload.length));
  const meta = (offset: number): Buffer => fullBox('meta', 0, hdlr, pitm, iloc(offset), iinf, iprp);
  // The data offset depends on the meta box's size, which does not depend on the offset's value.
  const dataOffset = ftyp.length + meta(0).length + 8;
  return Promise.resolve(Buffer.concat([ftyp, meta(dataOffset), box('mdat', payload)]));
}

/** An SVG (with an XML prolog): a real image format, but rendering it is not something a photo service should do. */
export async function svg(): Promise<Buffer> {
  return Promise.resolve(
    Buffer.from(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>\n',
    ),
  );
}

/** Plain text that someone saved as `photo.jpg`: the name must not matter. */
export async function textAsJpg(): Promise<Buffer> {
  return Promise.resolve(Buffer.from('This is not a JPEG.\nIt is a note that was uploaded with a .jpg name.\n'));
}

/** An HTML page, e.g. an error page saved instead of the image it should have been. */
export async function htmlBytes(): Promise<Buffer> {
  return Promise.resolve(
    Buffer.from('<!DOCTYPE html>\n<html><head><title>404</title></head><body><img src="x.jpg"></body></html>\n'),
  );
}

/** A small but well-formed one-page PDF. */
export async function pdfBytes(): Promise<Buffer> {
  return Promise.resolve(
    Buffer.from(
      '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
        '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
    ),
  );
}

/** A well-formed ZIP archive holding one stored file, `image.jpg`, whose content is text. */
export async function zipBytes(): Promise<Buffer> {
  const name = Buffer.from('image.jpg');
  const data = Buffer.from('not really an image\n');
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4); // version needed
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4); // version made by
  central.writeUInt16LE(10, 6); // version needed
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(name.length, 28);
  const centralOffset = local.length + name.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Promise.resolve(Buffer.concat([local, name, data, central, name, end]));
}

/** `n` pseudo-random bytes, the same for the same seed (mulberry32): noise that must be refused, never crash. */
export async function randomBytes(n = 4096, seed = 1): Promise<Buffer> {
  const out = Buffer.alloc(n);
  let state = seed >>> 0;
  for (let i = 0; i < n; i += 1) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return Promise.resolve(out);
}

/** Zero bytes: an upload that never got its content. */
export async function emptyBytes(): Promise<Buffer> {
  return Promise.resolve(Buffer.alloc(0));
}

// ---------------------------------------------------------------- reading colours back

/**
 * Mean colour of `image` (or of `region` of it) as [r, g, b] 0-255. Raw pixels are averaged because sharp's
 * `stats()` describes the input and ignores `extract`; greyscale is repeated into all three channels.
 */
export async function meanColour(image: Buffer | sharp.Sharp, region?: sharp.Region): Promise<[number, number, number]> {
  const base = Buffer.isBuffer(image) ? sharp(image) : image;
  const cropped = region === undefined ? base : base.extract(region);
  const { data, info } = await cropped.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const sums = [0, 0, 0];
  for (let i = 0; i < data.length; i += info.channels) {
    for (let c = 0; c < 3; c += 1) {
      sums[c] = (sums[c] ?? 0) + (data[i + Math.min(c, info.channels - 1)] ?? 0);
    }
  }
  const pixels = Math.max(1, data.length / info.channels);
  const [r = 0, g = 0, b = 0] = sums.map((sum) => Math.round(sum / pixels));
  return [r, g, b];
}

/** '#rrggbb' as [r, g, b]. */
export function hexToRgb(hex: string): [number, number, number] {
  const [r = 0, g = 0, b = 0] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return [r, g, b];
}

/** Largest per-channel difference; JPEG blurs and shifts colours a little, so compare with a tolerance. */
export function colourDistance(a: readonly number[], b: readonly number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - (b[i] ?? 0))));
}

// ---------------------------------------------------------------- table for later table-driven tests

/** Limits under which `FIXTURE_OUTCOMES` hold; `overBytes` is made just over `maxBytes`. */
export const FIXTURE_LIMITS = { maxBytes: 1024 * 1024, maxPixels: 40_000_000 } as const;

/** The hostile and odd inputs, by name (keys are checked, so every one has an outcome below). */
export const FIXTURES = {
  empty: emptyBytes,
  overBytes: () => overBytes(FIXTURE_LIMITS.maxBytes),
  pngBomb: () => pngBomb(),
  jpegBomb: () => jpegBomb(),
  truncatedJpeg,
  pngWithBadCrc,
  heicHevc: () => heicHevc(),
  svg,
  textAsJpg,
  htmlBytes,
  pdfBytes,
  zipBytes,
  randomBytes: () => randomBytes(4096, 1),
  polyglot,
  exifRotatedJpeg: () => exifRotatedJpeg(6),
  cmykJpeg: () => cmykJpeg(),
  png16bit: () => png16bit(),
  grayscalePng: () => grayscalePng(),
  alphaPng: () => alphaPng(),
  onePixel,
  extremeAspect: () => extremeAspect(),
  animatedGif: () => gif(),
  animatedWebp: () => animatedWebp(),
} satisfies Record<string, () => Promise<Buffer>>;

export type FixtureName = keyof typeof FIXTURES;

/** What preprocessing must make of each fixture under `FIXTURE_LIMITS`: accepted, or refused with this code. */
export const FIXTURE_OUTCOMES: Record<FixtureName, 'accepted' | ErrorCode> = {
  empty: 'empty_blob',
  overBytes: 'too_large',
  pngBomb: 'too_many_pixels',
  jpegBomb: 'too_many_pixels',
  truncatedJpeg: 'corrupt_image',
  pngWithBadCrc: 'corrupt_image',
  heicHevc: 'unsupported_format',
  svg: 'unsupported_format',
  textAsJpg: 'unsupported_format',
  htmlBytes: 'unsupported_format',
  pdfBytes: 'unsupported_format',
  zipBytes: 'unsupported_format',
  randomBytes: 'unsupported_format',
  polyglot: 'accepted',
  exifRotatedJpeg: 'accepted',
  cmykJpeg: 'accepted',
  png16bit: 'accepted',
  grayscalePng: 'accepted',
  alphaPng: 'accepted',
  onePixel: 'accepted',
  extremeAspect: 'accepted',
  animatedGif: 'accepted',
  animatedWebp: 'accepted',
};
