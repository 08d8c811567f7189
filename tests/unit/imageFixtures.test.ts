// The generated test images are what their names promise, so tests built on them prove what they claim.

import { crc32 } from 'node:zlib';

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import {
  animatedWebp,
  ANIMATION_FRAME_COLOURS,
  avif,
  cmykJpeg,
  colourDistance,
  EXIF_TOP_COLOUR,
  EXIF_UPRIGHT,
  exifRotatedJpeg,
  extremeAspect,
  FIXTURE_OUTCOMES,
  FIXTURES,
  gif,
  grayscalePng,
  heicHevc,
  hexToRgb,
  jpeg,
  jpegBomb,
  LABEL_COLOURS,
  labelledColour,
  meanColour,
  onePixel,
  overBytes,
  png,
  png16bit,
  pngBomb,
  pngWithBadCrc,
  polyglot,
  randomBytes,
  tiff,
  truncatedJpeg,
  webp,
  zipBytes,
} from '../support/imageFixtures';

function pngChunks(bytes: Buffer): { type: string; data: Buffer; crc: number }[] {
  const chunks = [];
  for (let at = 8; at + 12 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    chunks.push({
      type: bytes.toString('latin1', at + 4, at + 8),
      data: bytes.subarray(at + 8, at + 8 + length),
      crc: bytes.readUInt32BE(at + 8 + length),
    });
    at += length + 12;
  }
  return chunks;
}

describe('ordinary formats', () => {
  it.each([
    ['jpeg', jpeg],
    ['png', png],
    ['webp', webp],
    ['tiff', tiff],
  ] as const)('%s() is a real image of the requested size', async (format, make) => {
    const meta = await sharp(await make(70, 30)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual([format, 70, 30]);
  });

  it('avif() is HEIF with the AV1 codec', async () => {
    const meta = await sharp(await avif(70, 30)).metadata();
    expect([meta.format, meta.compression, meta.width, meta.height]).toEqual(['heif', 'av1', 70, 30]);
  });

  it.each([
    ['gif', gif, 'gif'],
    ['animatedWebp', animatedWebp, 'webp'],
  ] as const)('%s() has two frames of different colours', async (_name, make, format) => {
    const bytes = await make(16, 16);
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.pages]).toEqual([format, 2]);
    const frameColours = await Promise.all([0, 1].map(async (page) => meanColour(sharp(bytes, { page }))));
    expect(frameColours).toEqual(ANIMATION_FRAME_COLOURS.map(hexToRgb));
  });

  it('labelledColour() shows exactly its colour', async () => {
    for (const label of ['red', 'yellow'] as const) {
      expect(await meanColour(sharp(await labelledColour(label, { format: 'png' })))).toEqual(hexToRgb(LABEL_COLOURS[label]));
    }
  });
});

describe('odd but valid images', () => {
  it.each([6, 8] as const)('exifRotatedJpeg(%i) stores its pixels sideways, upright only after the EXIF turn', async (o) => {
    const bytes = await exifRotatedJpeg(o);
    const meta = await sharp(bytes).metadata();
    expect([meta.orientation, meta.width, meta.height]).toEqual([o, EXIF_UPRIGHT.height, EXIF_UPRIGHT.width]);
    // Upright, the top rows are the marker colour.
    const upright = sharp(bytes, { autoOrient: true });
    const top = await meanColour(upright, { left: 0, top: 0, width: EXIF_UPRIGHT.width, height: 5 });
    expect(colourDistance(top, hexToRgb(EXIF_TOP_COLOUR))).toBeLessThan(40);
    // Ignoring the tag, the top rows are not the marker colour: the file really is sideways.
    const storedTop = await meanColour(sharp(bytes), { left: 0, top: 0, width: EXIF_UPRIGHT.height, height: 5 });
    expect(colourDistance(storedTop, hexToRgb(EXIF_TOP_COLOUR))).toBeGreaterThan(100);
  });

  it('cmykJpeg(), png16bit() and grayscalePng() have the colour models they promise', async () => {
    const cmyk = await sharp(await cmykJpeg()).metadata();
    expect([cmyk.space, cmyk.channels]).toEqual(['cmyk', 4]);
    const deep = await sharp(await png16bit()).metadata();
    expect([deep.depth, deep.bitsPerSample]).toEqual(['ushort', 16]);
    const grey = await sharp(await grayscalePng()).metadata();
    expect([grey.space, grey.channels]).toEqual(['b-w', 1]);
  });

  it('onePixel() and extremeAspect() have their sizes', async () => {
    const one = await sharp(await onePixel()).metadata();
    expect([one.width, one.height]).toEqual([1, 1]);
    const strip = await sharp(await extremeAspect(10000, 10)).metadata();
    expect([strip.width, strip.height]).toEqual([10000, 10]);
  });

  it('overBytes(n) is a decodable JPEG of more than n bytes', async () => {
    for (const n of [1000, 70_000, 300_000]) {
      const bytes = await overBytes(n);
      expect(bytes.length).toBeGreaterThan(n);
      expect(bytes.length).toBeLessThan(n + 2000);
      const { info } = await sharp(bytes, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
      expect(info.width).toBe(16);
    }
  });

  it('polyglot() decodes as a JPEG and carries a ZIP and HTML payload', async () => {
    const bytes = await polyglot();
    const { info } = await sharp(bytes, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(64);
    expect(bytes.includes('PK\x03\x04', 0, 'latin1')).toBe(true);
    expect(bytes.includes('<html>', 0, 'latin1')).toBe(true);
  });
});

describe('damaged and hostile bytes', () => {
  it('truncatedJpeg() starts like a JPEG but ends without its end-of-image marker', async () => {
    const bytes = await truncatedJpeg();
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(bytes.subarray(-2)).not.toEqual(Buffer.from([0xff, 0xd9]));
    // The header is intact, so only decoding the scan can notice.
    expect((await sharp(bytes).metadata()).width).toBe(256);
  });

  it('pngWithBadCrc() has a valid header and a wrong IDAT checksum', async () => {
    const chunks = pngChunks(await pngWithBadCrc());
    const ihdr = chunks.find((c) => c.type === 'IHDR');
    const idat = chunks.find((c) => c.type === 'IDAT');
    expect(ihdr?.crc).toBe(crc32(Buffer.concat([Buffer.from('IHDR'), ihdr?.data ?? Buffer.alloc(0)])));
    expect(idat?.crc).not.toBe(crc32(Buffer.concat([Buffer.from('IDAT'), idat?.data ?? Buffer.alloc(0)])));
  });

  it('pngBomb() is tiny, declares the huge size in a header with a correct CRC', async () => {
    const bytes = await pngBomb(100_000, 100_000);
    expect(bytes.length).toBeLessThan(2048);
    for (const chunk of pngChunks(bytes)) {
      expect(chunk.crc).toBe(crc32(Buffer.concat([Buffer.from(chunk.type, 'latin1'), chunk.data])));
    }
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 100_000, 100_000]);
  });

  it('jpegBomb() is a small JPEG whose frame header declares the huge size', async () => {
    const bytes = await jpegBomb(65_000, 60_000);
    expect(bytes.length).toBeLessThan(4096);
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 65_000, 60_000]);
  });

  it('heicHevc() has a HEIC header that names the HEVC codec', async () => {
    const meta = await sharp(await heicHevc(640, 480)).metadata();
    expect([meta.format, meta.compression, meta.width, meta.height]).toEqual(['heif', 'hevc', 640, 480]);
  });

  it('zipBytes() is a ZIP with a local header and an end-of-directory record', async () => {
    const bytes = await zipBytes();
    expect(bytes.readUInt32LE(0)).toBe(0x04034b50);
    expect(bytes.readUInt32LE(bytes.length - 22)).toBe(0x06054b50);
  });

  it('randomBytes() is deterministic per seed', async () => {
    expect(await randomBytes(256, 7)).toEqual(await randomBytes(256, 7));
    expect(await randomBytes(256, 7)).not.toEqual(await randomBytes(256, 8));
    expect((await randomBytes(1000, 3)).length).toBe(1000);
  });
});

describe('FIXTURES', () => {
  it('every named fixture makes bytes and has an expected outcome', async () => {
    const names = Object.keys(FIXTURES);
    expect(names.sort()).toEqual(Object.keys(FIXTURE_OUTCOMES).sort());
    for (const make of Object.values(FIXTURES)) {
      expect(Buffer.isBuffer(await make())).toBe(true);
    }
  });
});
