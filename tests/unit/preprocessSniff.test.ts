// sniffImageFormat: the real format comes from the bytes; anything off the allow-list is named, never decoded.

import { describe, expect, it } from 'vitest';

import { sniffImageFormat } from '../../shared/preprocess';
import {
  avif,
  FIXTURES,
  gif,
  heicHevc,
  jpeg,
  png,
  randomBytes,
  tiff,
  webp,
} from '../support/imageFixtures';

describe('sniffImageFormat', () => {
  it.each([
    ['jpeg', jpeg],
    ['png', png],
    ['webp', webp],
    ['gif', gif],
    ['tiff', tiff],
    ['heif', avif],
    ['heif', heicHevc],
  ] as const)('recognises %s from its bytes', async (container, make) => {
    expect(sniffImageFormat(await make())).toEqual({ kind: 'image', container });
  });

  it('recognises big-endian TIFF too', () => {
    expect(sniffImageFormat(Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]))).toEqual({ kind: 'image', container: 'tiff' });
  });

  it.each([
    ['svg', FIXTURES.svg],
    ['html', FIXTURES.htmlBytes],
    ['pdf', FIXTURES.pdfBytes],
    ['zip', FIXTURES.zipBytes],
    ['text', FIXTURES.textAsJpg],
  ] as const)('names a %s file', async (detected, make) => {
    expect(sniffImageFormat(await make())).toMatchObject({ kind: 'other', detected });
  });

  it('finds SVG behind a byte-order mark, whitespace or a doctype', () => {
    const svgs = [
      '\uFEFF<svg xmlns="http://www.w3.org/2000/svg"/>',
      '\n\n   <svg xmlns="http://www.w3.org/2000/svg"/>',
      '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n<svg/>',
      '<!DOCTYPE svg><svg/>',
    ];
    for (const text of svgs) {
      expect(sniffImageFormat(Buffer.from(text))).toMatchObject({ kind: 'other', detected: 'svg' });
    }
  });

  it('tells HEIF stills from MP4/QuickTime video sharing the same box format', () => {
    const mp4 = Buffer.from('\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2mp41', 'latin1');
    expect(sniffImageFormat(mp4)).toMatchObject({ kind: 'other', detected: 'iso-media' });
    const heic = Buffer.from('\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic', 'latin1');
    expect(sniffImageFormat(heic)).toEqual({ kind: 'image', container: 'heif' });
  });

  it('names other RIFF media, BMP and PSD instead of guessing', () => {
    expect(sniffImageFormat(Buffer.from('RIFF\x00\x00\x00\x00AVI LIST', 'latin1'))).toMatchObject({ kind: 'other', detected: 'riff-avi' });
    expect(sniffImageFormat(Buffer.from('BM\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00', 'latin1'))).toMatchObject({ kind: 'other', detected: 'bmp' });
    expect(sniffImageFormat(Buffer.from('8BPS\x00\x01', 'latin1'))).toMatchObject({ kind: 'other', detected: 'psd' });
    // "BM" at the start of ordinary text is not a bitmap.
    expect(sniffImageFormat(Buffer.from('BMW photos, see attached.'))).toMatchObject({ kind: 'other', detected: 'text' });
  });

  it('calls binary noise unknown', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      expect(sniffImageFormat(await randomBytes(1024, seed))).toEqual({ kind: 'unknown' });
    }
  });

  it('does not trip over inputs shorter than any signature', () => {
    for (const bytes of [Buffer.alloc(0), Buffer.from([0xff]), Buffer.from([0xff, 0xd8]), Buffer.from('RIFF')]) {
      expect(() => sniffImageFormat(bytes)).not.toThrow();
      expect(sniffImageFormat(bytes).kind).not.toBe('image');
    }
  });
});
