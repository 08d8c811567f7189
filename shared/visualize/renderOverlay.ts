/** Draws an ImageComparison onto its image with sharp: upright, optionally downscaled, banner above, SVG composited. */
import sharp from 'sharp';

import type { ImageComparison } from './compareImage';
import { OVERLAY_COLOURS } from './overlayColours';
import { overlaySvg } from './overlaySvg';

export type OverlayFormat = 'jpeg' | 'png';

export interface RenderOverlayOptions {
  format: OverlayFormat;
  /** Downscale wider images to this width; default: the original size. */
  maxWidth?: number;
  /** Scale to exactly this width, enlarging small images too (the report's gallery: every picture as legible). */
  width?: number;
  /** JPEG quality; default 85. */
  quality?: number;
  /**
   * The size the boxes were measured on (PredictionRecord.image: the original upright image); default the file's
   * own upright size. Given, boxes scale with it even if the file on disk was resized since.
   */
  boxSpace?: { width: number; height: number } | null;
}

export interface RenderedOverlay {
  data: Buffer;
  width: number;
  height: number;
  bannerHeight: number;
  /** Output pixels per box-space pixel. */
  scale: number;
}

export async function renderOverlay(image: Buffer, comparison: ImageComparison, options: RenderOverlayOptions): Promise<RenderedOverlay> {
  // rotate() with no angle applies the EXIF orientation: boxes are in upright pixels.
  const meta = await sharp(image).metadata();
  const turned = (meta.orientation ?? 1) >= 5;
  const uprightWidth = (turned ? meta.height : meta.width) ?? 0;
  const width = Math.max(1, options.width ?? Math.min(uprightWidth, options.maxWidth ?? uprightWidth));
  const { data: base, info } = await sharp(image).rotate().resize({ width, withoutEnlargement: options.width === undefined }).removeAlpha().toColourspace('srgb').png({ compressionLevel: 1 }).toBuffer({ resolveWithObject: true });
  const scale = info.width / (options.boxSpace?.width ?? uprightWidth);
  const { svg, layout } = overlaySvg(comparison, { width: info.width, height: info.height, scale });
  const out = sharp(base)
    .extend({ top: layout.bannerHeight, background: OVERLAY_COLOURS.banner })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
  const data = options.format === 'png' ? await out.png().toBuffer() : await out.jpeg({ quality: options.quality ?? 85 }).toBuffer();
  return { data, width: info.width, height: info.height + layout.bannerHeight, bannerHeight: layout.bannerHeight, scale };
}
