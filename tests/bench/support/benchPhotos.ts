/**
 * Camera-like JPEGs of a given size for the benchmarks: smooth gradients and shapes under sensor-like noise, so they
 * compress about as a photo does (a flat colour would compress to nothing, pure noise to far more than a photo).
 * Generating 24 MP takes seconds, so each size is cached in the OS temp folder between runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import sharp from 'sharp';

export interface PhotoSize {
  label: string;
  width: number;
  height: number;
}

/** 4:3 sizes of 0.3, 2, 12 and 24 megapixels (VGA, a small camera, a phone, a full-frame DSLR). */
export const PHOTO_SIZES: readonly PhotoSize[] = [
  { label: '0.3 MP', width: 640, height: 480 },
  { label: '2 MP', width: 1632, height: 1224 },
  { label: '12 MP', width: 4000, height: 3000 },
  { label: '24 MP', width: 6000, height: 4000 },
];

/** Bumped when the generator changes, so a stale cached file is never measured. */
const GENERATOR_VERSION = 1;
const CACHE_DIR = path.join(tmpdir(), 'blobsight-bench-photos');

/** A cached (or freshly generated) JPEG of `size`; quality 90 with 4:2:0 chroma, as cameras write them. */
export async function benchPhoto(size: PhotoSize): Promise<Buffer> {
  const file = path.join(CACHE_DIR, `v${GENERATOR_VERSION}-${size.width}x${size.height}.jpg`);
  if (existsSync(file)) return readFileSync(file);
  const jpeg = await sharp(photoPixels(size.width, size.height), { raw: { width: size.width, height: size.height, channels: 3 } })
    .jpeg({ quality: 90, chromaSubsampling: '4:2:0' })
    .toBuffer();
  mkdirSync(CACHE_DIR, { recursive: true });
  // Written then renamed: two bench processes never read a half-written cache file.
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, jpeg);
  renameSync(partial, file);
  return jpeg;
}

function photoPixels(width: number, height: number): Buffer {
  const px = Buffer.allocUnsafe(width * height * 3);
  let seed = 0x2545f491;
  const noise = (): number => {
    // xorshift32: fast, deterministic, good enough for sensor grain.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return ((seed >>> 0) % 17) - 8;
  };
  const fx = (2 * Math.PI * 3) / width;
  const fy = (2 * Math.PI * 2) / height;
  let i = 0;
  for (let y = 0; y < height; y++) {
    const sy = Math.sin(y * fy);
    for (let x = 0; x < width; x++) {
      const sx = Math.sin(x * fx + sy);
      // Edges every ~1/12 of the width stand in for objects; the sines for sky, walls and shading.
      const band = ((x * 12) / width + (y * 8) / height) % 2 < 1 ? 30 : 0;
      px[i++] = clamp(120 + 80 * sx + band + noise());
      px[i++] = clamp(110 + 60 * sy + (x / width) * 60 + noise());
      px[i++] = clamp(100 + 70 * sx * sy - band + (y / height) * 50 + noise());
    }
  }
  return px;
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v | 0;
}

/**
 * The same picture with different bytes: a JPEG comment (COM segment) right after SOI carrying `nonce`. Every
 * upload then has its own SHA-256, so the content cache never answers instead of the model, and no 24 MP image
 * has to be generated per upload.
 */
export function withNonce(jpeg: Buffer, nonce: string): Buffer {
  const text = Buffer.from(`bench ${nonce} ${createHash('sha1').update(nonce).digest('hex').slice(0, 8)}`, 'latin1');
  const segment = Buffer.alloc(4 + text.length);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(text.length + 2, 2);
  text.copy(segment, 4);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}
