/**
 * A JPEG's own compressed image without its metadata, byte for byte: what the model can be sent when the original
 * already is the size and colour it needs, instead of a re-encode that would be larger (a quality-85 re-encode of a
 * quality-75 camera frame grows by a fifth) and one generation worse. sharp (libvips) always decodes and re-encodes,
 * and no maintained package in our tree copies JPEG segments losslessly, so this walks the markers itself; it keeps
 * only what decoding needs and gives up (undefined) on anything it does not know.
 */

/** Segments a baseline or progressive Huffman JPEG needs to decode: tables, frame, scans, restart interval. */
const KEEP = new Set([
  0xc0, // SOF0 baseline
  0xc1, // SOF1 extended sequential, Huffman
  0xc2, // SOF2 progressive, Huffman
  0xc4, // DHT
  0xdb, // DQT
  0xdd, // DRI
  0xe0, // APP0 JFIF: pixel aspect, no personal data
  0xee, // APP14 Adobe: says whether the components are YCbCr, which decoders need
]);

/** EXIF (GPS, camera serials), XMP, ICC, IPTC, MPF and comments: dropped. */
function droppable(marker: number): boolean {
  return (marker >= 0xe1 && marker <= 0xef && marker !== 0xee) || marker === 0xfe;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;

/**
 * The JPEG with every APPn segment but JFIF/Adobe and every comment removed, and nothing after EOI; undefined
 * when it is not a plain Huffman-coded JPEG (arithmetic coding, lossless, hierarchical) or its structure is off.
 */
export function stripJpegMetadata(bytes: Buffer): Buffer | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) return undefined;
  const kept: Buffer[] = [bytes.subarray(0, 2)];
  let sawFrame = false;
  let at = 2;
  while (at + 1 < bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1] as number;
    if (marker === 0xff) {
      // Fill byte before a marker.
      at += 1;
      continue;
    }
    if (marker === EOI) {
      if (!sawFrame) return undefined;
      kept.push(bytes.subarray(at, at + 2));
      return Buffer.concat(kept);
    }
    if (at + 4 > bytes.length) return undefined;
    const end = at + 2 + bytes.readUInt16BE(at + 2);
    if (end <= at + 3 || end > bytes.length) return undefined;
    if (KEEP.has(marker) || marker === SOS) kept.push(bytes.subarray(at, end));
    else if (!droppable(marker)) return undefined;
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) sawFrame = true;
    at = end;
    if (marker === SOS) {
      // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart marker.
      let scan = at;
      for (;;) {
        scan = bytes.indexOf(0xff, scan);
        if (scan < 0 || scan + 1 >= bytes.length) return undefined;
        const next = bytes[scan + 1] as number;
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) scan += 2;
        else break;
      }
      kept.push(bytes.subarray(at, scan));
      at = scan;
    }
  }
  return undefined;
}
