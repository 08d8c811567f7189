/**
 * Bytes sent to the model: never more than the model looks at. An original that already is the target size is sent
 * as its own JPEG (metadata stripped) when that is smaller than a re-encode; anything that must change is re-encoded.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { preprocessImage } from '../../shared/preprocess';
import { stripJpegMetadata } from '../../shared/preprocess/stripJpegMetadata';
import { EXIF_UPRIGHT,exifRotatedJpeg } from '../support/imageFixtures';

const LIMITS = { maxBytes: 20 * 2 ** 20, maxPixels: 40_000_000 };
const BDD = path.join(__dirname, '..', '..', '..', 'shared', 'data', 'bdd100k', 'images');

let grain: Promise<Buffer> | undefined;
const frames = new Map<string, Promise<Buffer>>();

/** A 1280x720 "dashcam frame": grainy content written at a camera's quality with EXIF carrying a GPS position. */
function cameraFrame(quality: number, extra: { icc?: string } = {}): Promise<Buffer> {
  const key = `${quality}-${extra.icc ?? ''}`;
  let frame = frames.get(key);
  if (frame === undefined) {
    frame = encodeFrame(quality, extra);
    frames.set(key, frame);
  }
  return frame;
}

async function encodeFrame(quality: number, extra: { icc?: string }): Promise<Buffer> {
  grain ??= sharp({ create: { width: 1280, height: 720, channels: 3, background: '#6080a0', noise: { type: 'gaussian', mean: 120, sigma: 25 } } })
    .blur(1.2)
    .png({ compressionLevel: 0 })
    .toBuffer();
  let img = sharp(await grain)
    .withExif({ IFD0: { Make: 'BenchCam', Copyright: 'someone' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '47/1 36/1 0/1' } });
  if (extra.icc !== undefined) img = img.withIccProfile(extra.icc);
  return img.jpeg({ quality }).toBuffer();
}

// Image work on a shared 2-core machine: generous per-test time, no time asserted.
describe('bytes sent to the model', { timeout: 30_000 }, () => {
  it('a 1280x720 frame at detail high is sent no larger than the original, without its EXIF and GPS', async () => {
    const original = await cameraFrame(70);
    expect((await sharp(original).metadata()).exif).toBeDefined();
    const p = await preprocessImage(original, { detail: 'high', ...LIMITS });
    expect([p.width, p.height]).toEqual([1280, 720]);
    expect(p.jpeg.length).toBeLessThanOrEqual(original.length);
    const sent = await sharp(p.jpeg).metadata();
    expect(sent.exif).toBeUndefined();
    expect(p.jpeg.includes('BenchCam')).toBe(false);
    expect(p.jpeg.includes('GPS')).toBe(false);
    // Still a plain JPEG of the same picture: decodes to the same size with the same pixels as the original.
    const [a, b] = await Promise.all([sharp(original).raw().toBuffer(), sharp(p.jpeg).raw().toBuffer()]);
    expect(b.equals(a)).toBe(true);
  });

  it('at detail low and auto the same frame is scaled and re-encoded, far smaller than the original', async () => {
    const original = await cameraFrame(70);
    for (const detail of ['low', 'auto'] as const) {
      const p = await preprocessImage(original, { detail, ...LIMITS });
      expect(p.jpeg.length).toBeLessThan(original.length);
      expect(Math.max(p.width, p.height)).toBe(detail === 'low' ? 512 : 1280);
      expect((await sharp(p.jpeg).metadata()).exif).toBeUndefined();
    }
  });

  it('an original written at a higher quality than ours is re-encoded, because that is smaller', async () => {
    const original = await cameraFrame(98);
    const p = await preprocessImage(original, { detail: 'high', ...LIMITS });
    expect(p.jpeg.length).toBeLessThan(original.length * 0.8);
  });

  it('an EXIF-rotated photo is still turned upright (re-encoded), not sent as stored', async () => {
    const p = await preprocessImage(await exifRotatedJpeg(6), { detail: 'high', ...LIMITS });
    expect([p.width, p.height]).toEqual([EXIF_UPRIGHT.width, EXIF_UPRIGHT.height]);
    expect((await sharp(p.jpeg).metadata()).orientation).toBeUndefined();
  });

  it('a photo tagged Display P3 is converted to sRGB (re-encoded), an sRGB-tagged one may go as is', async () => {
    const p3 = await cameraFrame(70, { icc: 'p3' });
    const sentP3 = await preprocessImage(p3, { detail: 'high', ...LIMITS });
    expect(stripJpegMetadata(p3)?.equals(sentP3.jpeg)).toBe(false);
    const srgb = await cameraFrame(70, { icc: 'srgb' });
    const sentSrgb = await preprocessImage(srgb, { detail: 'high', ...LIMITS });
    expect(sentSrgb.jpeg.equals(stripJpegMetadata(srgb) as Buffer)).toBe(true);
    expect((await sharp(sentSrgb.jpeg).metadata()).icc).toBeUndefined();
  });

  it('a truncated JPEG of the target size is still refused, not passed through', async () => {
    const original = await cameraFrame(70);
    await expect(preprocessImage(original.subarray(0, Math.floor(original.length * 0.6)), { detail: 'high', ...LIMITS })).rejects.toMatchObject({ code: 'corrupt_image' });
  });

  it('the real BDD100K frames (1280x720) at detail high: bytes sent are at most the originals', async () => {
    if (!existsSync(BDD)) return void console.warn(`skipped: ${BDD} is absent (real data lives beside the repository)`);
    const files = readdirSync(BDD).filter((f) => f.endsWith('.jpg')).slice(0, 10);
    let inBytes = 0;
    let outBytes = 0;
    for (const f of files) {
      const original = readFileSync(path.join(BDD, f));
      const p = await preprocessImage(original, { detail: 'high', ...LIMITS });
      inBytes += original.length;
      outBytes += p.jpeg.length;
      expect(p.jpeg.length).toBeLessThanOrEqual(original.length);
    }
    console.log(`bdd100k detail high: bytes sent / original = ${(outBytes / inBytes).toFixed(3)} over ${files.length} frames`);
  });
});

describe('stripJpegMetadata', { timeout: 30_000 }, () => {
  it('drops APP1 (EXIF), comments and trailing bytes, keeps a decodable JPEG', async () => {
    const original = await cameraFrame(70);
    const trailing = Buffer.concat([original, Buffer.from('trailing secret')]);
    const stripped = stripJpegMetadata(trailing) as Buffer;
    expect(stripped).toBeDefined();
    expect(stripped.includes('trailing secret')).toBe(false);
    expect(stripped.includes('Exif\0')).toBe(false);
    expect(stripped.subarray(-2).toString('hex')).toBe('ffd9');
    expect((await sharp(stripped).metadata()).width).toBe(1280);
  });

  it('gives up on what is not a plain Huffman JPEG', async () => {
    const original = await cameraFrame(70);
    expect(stripJpegMetadata(original.subarray(0, original.length - 100))).toBeUndefined();
    expect(stripJpegMetadata(Buffer.from('not a jpeg at all'))).toBeUndefined();
    // SOF9 (arithmetic coding) in place of SOF0: decoders (and the model's) may not read it.
    const sof = original.indexOf(Buffer.from([0xff, 0xc0]));
    const arithmetic = Buffer.from(original);
    arithmetic[sof + 1] = 0xc9;
    expect(stripJpegMetadata(arithmetic)).toBeUndefined();
  });
});
