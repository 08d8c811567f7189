// preprocessImage: what the model is sent (upright, stripped, sized JPEG) and which inputs are refused, and why.

import { createHash } from 'node:crypto';

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import type { ErrorCode, PermanentError } from '../../shared/errors';
import { isPermanentError } from '../../shared/errors';
import type { PreprocessOptions } from '../../shared/preprocess';
import { estimateImageTokens, preprocessImage } from '../../shared/preprocess';
import {
  ALPHA_OPAQUE_COLOUR,
  alphaPng,
  animatedWebp,
  ANIMATION_FRAME_COLOURS,
  avif,
  cmykJpeg,
  colourDistance,
  EXIF_REST_COLOUR,
  EXIF_TOP_COLOUR,
  EXIF_UPRIGHT,
  exifRotatedJpeg,
  extremeAspect,
  FIXTURE_LIMITS,
  FIXTURE_OUTCOMES,
  FIXTURES,
  gif,
  grayscalePng,
  heicHevc,
  hexToRgb,
  jpeg,
  meanColour,
  onePixel,
  png,
  png16bit,
  polyglot,
  randomBytes,
  svg,
  tiff,
  webp,
} from '../support/imageFixtures';

const options: PreprocessOptions = { detail: 'high', maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 };

async function refusal(bytes: Buffer, opts: PreprocessOptions = options): Promise<PermanentError> {
  try {
    await preprocessImage(bytes, opts);
  } catch (e) {
    if (isPermanentError(e)) return e;
    throw e;
  }
  return expect.fail('expected preprocessImage to refuse the input');
}

async function outputMeta(jpegBytes: Buffer): Promise<sharp.Metadata> {
  return sharp(jpegBytes).metadata();
}

describe('preprocessImage accepts every supported format', () => {
  it.each([
    ['jpeg', jpeg],
    ['png', png],
    ['webp', webp],
    ['tiff', tiff],
    ['avif', avif],
    ['gif', gif],
  ] as const)('%s comes out as a JPEG with the sniffed format recorded', async (format, make) => {
    const input = await make(60, 40);
    const result = await preprocessImage(input, options);
    expect(result.original.format).toBe(format);
    expect(result.original).toMatchObject({ width: 60, height: 40, bytes: input.length });
    const meta = await outputMeta(result.jpeg);
    expect([meta.format, meta.width, meta.height, meta.space, meta.channels, meta.depth]).toEqual([
      'jpeg', 60, 40, 'srgb', 3, 'uchar',
    ]);
    expect([result.width, result.height]).toEqual([60, 40]);
  });

  it('trusts the bytes, not the name: a PNG is a PNG whatever it is called', async () => {
    // There is no name to pass at all; the format comes from sniffing alone.
    const result = await preprocessImage(await png(10, 10), options);
    expect(result.original.format).toBe('png');
  });
});

describe('preprocessImage sizes the image for the detail', () => {
  it('scales a 12 MP photo to 1024x768 for high detail and predicts 765 tokens', async () => {
    const result = await preprocessImage(await jpeg(4032, 3024), { ...options, detail: 'high' });
    expect(result.detail).toBe('high');
    expect([result.width, result.height]).toEqual([1024, 768]);
    const meta = await outputMeta(result.jpeg);
    expect([meta.width, meta.height]).toEqual([1024, 768]);
    expect(result.estimatedImageTokens).toBe(765);
    expect(result.original).toMatchObject({ width: 4032, height: 3024 });
  });

  it('scales into 512x512 for low detail at 85 tokens', async () => {
    const result = await preprocessImage(await jpeg(4032, 3024), { ...options, detail: 'low' });
    expect([result.detail, result.width, result.height, result.estimatedImageTokens]).toEqual(['low', 512, 384, 85]);
  });

  it('resolves auto from the size: low for an image that fits one tile, high otherwise', async () => {
    const small = await preprocessImage(await jpeg(500, 300), { ...options, detail: 'auto' });
    expect([small.detail, small.width, small.height, small.estimatedImageTokens]).toEqual(['low', 500, 300, 85]);
    const large = await preprocessImage(await jpeg(1600, 1200), { ...options, detail: 'auto' });
    expect([large.detail, large.width, large.height]).toEqual(['high', 1024, 768]);
    expect(large.estimatedImageTokens).toBe(estimateImageTokens(1024, 768, 'high'));
  });

  it('never enlarges a small image, down to a single pixel', async () => {
    const small = await preprocessImage(await png(300, 200), options);
    expect([small.width, small.height, small.estimatedImageTokens]).toEqual([300, 200, 85 + 170]);
    const one = await preprocessImage(await onePixel(), options);
    expect([one.width, one.height]).toEqual([1, 1]);
    expect((await outputMeta(one.jpeg)).width).toBe(1);
  });

  it('keeps an extreme panorama strip at least one pixel high', async () => {
    const result = await preprocessImage(await extremeAspect(10000, 10), options);
    expect([result.width, result.height]).toEqual([2048, 2]);
    expect(result.estimatedImageTokens).toBe(85 + 170 * 4);
    const low = await preprocessImage(await extremeAspect(10000, 10), { ...options, detail: 'low' });
    expect([low.width, low.height]).toEqual([512, 1]);
  });
});

describe('preprocessImage output', () => {
  it.each([6, 8] as const)('turns an EXIF orientation %i photo upright', async (orientation) => {
    const result = await preprocessImage(await exifRotatedJpeg(orientation), options);
    expect(result.original).toMatchObject(EXIF_UPRIGHT);
    expect([result.width, result.height]).toEqual([EXIF_UPRIGHT.width, EXIF_UPRIGHT.height]);
    const top = await meanColour(result.jpeg, { left: 0, top: 0, width: EXIF_UPRIGHT.width, height: 8 });
    const bottom = await meanColour(result.jpeg, { left: 0, top: EXIF_UPRIGHT.height - 8, width: EXIF_UPRIGHT.width, height: 8 });
    expect(colourDistance(top, hexToRgb(EXIF_TOP_COLOUR))).toBeLessThan(40);
    expect(colourDistance(bottom, hexToRgb(EXIF_REST_COLOUR))).toBeLessThan(40);
    // Already upright, so no orientation tag may be left to turn it again.
    expect((await outputMeta(result.jpeg)).orientation).toBeUndefined();
  });

  it('strips EXIF, ICC, XMP and orientation from the output', async () => {
    const input = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } })
      .withIccProfile('p3')
      .withExif({ IFD0: { Copyright: 'someone', ImageDescription: 'secret place' } })
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>')
      .jpeg()
      .toBuffer();
    const inputMeta = await sharp(input).metadata();
    expect([inputMeta.hasProfile, inputMeta.exif !== undefined, inputMeta.xmp !== undefined]).toEqual([true, true, true]);
    expect(input.includes('secret place', 0, 'latin1')).toBe(true);
    const output = (await preprocessImage(input, options)).jpeg;
    expect(output.includes('secret place', 0, 'latin1')).toBe(false);
    const meta = await outputMeta(output);
    expect({ exif: meta.exif, icc: meta.icc, xmp: meta.xmp, iptc: meta.iptc, orientation: meta.orientation }).toEqual({
      exif: undefined, icc: undefined, xmp: undefined, iptc: undefined, orientation: undefined,
    });
    expect(meta.hasProfile).toBe(false);
  });

  it('flattens transparency onto white, not black', async () => {
    const result = await preprocessImage(await alphaPng(32, 16), options);
    const left = await meanColour(result.jpeg, { left: 0, top: 0, width: 12, height: 16 });
    const right = await meanColour(result.jpeg, { left: 20, top: 0, width: 12, height: 16 });
    expect(colourDistance(left, [255, 255, 255])).toBeLessThan(10);
    expect(colourDistance(right, hexToRgb(ALPHA_OPAQUE_COLOUR))).toBeLessThan(30);
    expect((await outputMeta(result.jpeg)).hasAlpha).toBe(false);
  });

  it('converts CMYK, 16-bit and greyscale input to 8-bit, 3-channel sRGB', async () => {
    for (const make of [() => cmykJpeg(64, 48, '#ff0000'), () => png16bit(64, 48, '#3366cc'), () => grayscalePng(64, 48)]) {
      const meta = await outputMeta((await preprocessImage(await make(), options)).jpeg);
      expect([meta.space, meta.channels, meta.depth]).toEqual(['srgb', 3, 'uchar']);
    }
    // The colour survives the conversion: red ink stays red on screen.
    const red = await meanColour((await preprocessImage(await cmykJpeg(64, 48, '#ff0000'), options)).jpeg);
    expect(red[0]).toBeGreaterThan(180);
    expect(Math.max(red[1], red[2])).toBeLessThan(80);
    const blue = await meanColour((await preprocessImage(await png16bit(64, 48, '#3366cc'), options)).jpeg);
    expect(colourDistance(blue, hexToRgb('#3366cc'))).toBeLessThan(10);
  });

  it.each([
    ['GIF', gif],
    ['WebP', animatedWebp],
  ] as const)('uses only the first frame of an animated %s', async (_name, make) => {
    const result = await preprocessImage(await make(32, 32), options);
    // All frames stacked would be 32x64.
    expect([result.width, result.height, result.original.height]).toEqual([32, 32, 32]);
    const colour = await meanColour(result.jpeg);
    expect(colourDistance(colour, hexToRgb(ANIMATION_FRAME_COLOURS[0]))).toBeLessThan(30);
  });

  it('hashes the original bytes exactly as received', async () => {
    const input = await polyglot();
    const result = await preprocessImage(input, options);
    expect(result.original.sha256).toBe(createHash('sha256').update(input).digest('hex'));
    expect(result.original.bytes).toBe(input.length);
  });

  it('accepts a JPEG with a ZIP and HTML appended, and the payload does not reach the model', async () => {
    const input = await polyglot();
    expect(input.includes('PK\x03\x04', 0, 'latin1')).toBe(true);
    const result = await preprocessImage(input, options);
    expect(result.original.format).toBe('jpeg');
    expect(result.jpeg.includes('PK\x03\x04', 0, 'latin1')).toBe(false);
    expect(result.jpeg.includes('<html', 0, 'latin1')).toBe(false);
  });
});

describe('preprocessImage refuses bad input with a permanent error and a reason', () => {
  it.each(Object.entries(FIXTURES).filter(([name]) => FIXTURE_OUTCOMES[name as keyof typeof FIXTURES] !== 'accepted'))(
    '%s is refused with the expected code',
    async (name, make) => {
      const error = await refusal(await make(), { detail: 'auto', ...FIXTURE_LIMITS });
      expect(error.kind).toBe('permanent');
      expect(error.code).toBe(FIXTURE_OUTCOMES[name as keyof typeof FIXTURES]);
      // A sentence a person can act on, and facts for machines.
      expect(error.message).toMatch(/^[A-Z].*[.]$/s);
      expect(error.details).toBeDefined();
    },
  );

  it.each(Object.entries(FIXTURES).filter(([name]) => FIXTURE_OUTCOMES[name as keyof typeof FIXTURES] === 'accepted'))(
    '%s is accepted',
    async (_name, make) => {
      const result = await preprocessImage(await make(), { detail: 'auto', ...FIXTURE_LIMITS });
      expect((await outputMeta(result.jpeg)).format).toBe('jpeg');
    },
  );

  it('refuses an empty blob before anything else', async () => {
    const error = await refusal(Buffer.alloc(0), { ...options, maxBytes: 1 });
    expect(error.code).toBe('empty_blob');
  });

  it('checks the size before looking at the content', async () => {
    const error = await refusal(await randomBytes(2000, 5), { ...options, maxBytes: 1000 });
    expect(error.code).toBe('too_large');
    expect(error.details).toMatchObject({ bytes: 2000, maxBytes: 1000 });
  });

  it('accepts an image of exactly maxBytes', async () => {
    const input = await jpeg(20, 20);
    const result = await preprocessImage(input, { ...options, maxBytes: input.length });
    expect(result.original.bytes).toBe(input.length);
  });

  it('refuses more pixels than the limit, naming the dimensions, and accepts exactly the limit', async () => {
    const input = await png(100, 50);
    const error = await refusal(input, { ...options, maxPixels: 4999 });
    expect(error.code).toBe('too_many_pixels');
    expect(error.details).toMatchObject({ width: 100, height: 50, maxPixels: 4999 });
    expect(error.message).toContain('100x50');
    expect((await preprocessImage(input, { ...options, maxPixels: 5000 })).original.width).toBe(100);
  });

  it.each([
    ['svg', svg, 'SVG'],
    ['html', FIXTURES.htmlBytes, 'HTML'],
    ['pdf', FIXTURES.pdfBytes, 'PDF'],
    ['zip', FIXTURES.zipBytes, 'ZIP'],
    ['text', FIXTURES.textAsJpg, 'text'],
  ] as const)('says what a %s file is', async (detected, make, word) => {
    const error = await refusal(await make());
    expect(error.code).toBe('unsupported_format');
    expect(error.details).toMatchObject({ detected });
    expect(error.message).toContain(word);
    expect(error.message).toContain('not accepted');
  });

  it('refuses unknown bytes, listing the formats it accepts', async () => {
    const error = await refusal(await randomBytes(4096, 1));
    expect(error.code).toBe('unsupported_format');
    expect(error.message).toBe('The bytes are not a supported image (JPEG, PNG, WebP, GIF, TIFF, AVIF, HEIF).');
  });

  it('refuses an HEVC-coded HEIC as unsupported (not corrupt), saying so', async () => {
    const error = await refusal(await heicHevc());
    expect(error.code).toBe('unsupported_format');
    expect(error.details).toMatchObject({ detected: 'heif', compression: 'hevc' });
    expect(error.message).toContain('HEIC');
  });

  it('refuses a truncated JPEG and a PNG with a bad checksum as corrupt, naming the format', async () => {
    const truncated = await refusal(await FIXTURES.truncatedJpeg());
    expect([truncated.code, truncated.details?.['format']]).toEqual(['corrupt_image', 'jpeg']);
    expect(truncated.message).toContain('JPEG');
    const badCrc = await refusal(await FIXTURES.pngWithBadCrc());
    expect([badCrc.code, badCrc.details?.['format']]).toEqual(['corrupt_image', 'png']);
  });

  it('never crashes on noise behind a real signature: every outcome is a permanent refusal', async () => {
    const signatures = [
      [0xff, 0xd8, 0xff, 0xe0],
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      [...Buffer.from('GIF89a')],
      [...Buffer.from('RIFF\x00\x10\x00\x00WEBPVP8 ', 'latin1')],
      [0x49, 0x49, 0x2a, 0x00],
      [0x4d, 0x4d, 0x00, 0x2a],
      [...Buffer.from('\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic', 'latin1')],
      [...Buffer.from('\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1avif', 'latin1')],
    ];
    const allowed: ErrorCode[] = ['corrupt_image', 'unsupported_format', 'too_many_pixels'];
    for (const [index, signature] of signatures.entries()) {
      for (const seed of [1, 2, 3]) {
        const bytes = Buffer.concat([Buffer.from(signature), await randomBytes(512, seed * 100 + index)]);
        const error = await refusal(bytes);
        expect(allowed).toContain(error.code);
      }
    }
  });

  it('rejects nonsensical limits as a programming error, not as bad input', async () => {
    const input = await png(4, 4);
    await expect(preprocessImage(input, { ...options, maxBytes: 0 })).rejects.toThrow(RangeError);
    await expect(preprocessImage(input, { ...options, maxPixels: Number.NaN })).rejects.toThrow(RangeError);
  });
});
