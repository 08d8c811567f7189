/** GPT-4o image sizing and token cost: what the service does to an image, done here so the estimate is exact. */

export type ImageDetail = 'low' | 'high' | 'auto';
export type ResolvedDetail = 'low' | 'high';

export interface ImageSize {
  width: number;
  height: number;
}

/** A low-detail image is one 512px tile; an image that already fits gains nothing from high detail. */
const LOW_DETAIL_MAX_SIDE = 512;
/** High detail: first fit inside 2048x2048, then the shortest side is at most 768 (OpenAI vision guide). */
const HIGH_DETAIL_MAX_SIDE = 2048;
const HIGH_DETAIL_MAX_SHORT_SIDE = 768;
const TILE_SIDE = 512;
/** GPT-4o prices: every image pays the base; high detail adds this much per 512px tile. */
const BASE_TOKENS = 85;
const TOKENS_PER_TILE = 170;

function assertDimensions(width: number, height: number): void {
  if (!Number.isFinite(width) || !Number.isFinite(height) || width < 1 || height < 1) {
    throw new RangeError(`Image dimensions must be at least 1x1, got ${width}x${height}.`);
  }
}

/**
 * Turns `auto` into the detail we will send. The service would also decide `auto` by size, but its rule is not
 * published, so we decide ourselves and send `low` or `high` explicitly: then the token estimate is exact and the
 * stored document says what was paid for. An image whose longest side is at most 512 fits one low-detail tile,
 * so high detail would cost more without showing the model anything new.
 */
export function resolveDetail(width: number, height: number, detail: ImageDetail): ResolvedDetail {
  if (detail !== 'auto') {
    return detail;
  }
  assertDimensions(width, height);
  return Math.max(width, height) <= LOW_DETAIL_MAX_SIDE ? 'low' : 'high';
}

/**
 * The size the service scales an image to for `detail`, never larger than the input (the service does not
 * enlarge: a small image costs its own tiles). Sending exactly this size saves upload bytes and costs the same.
 */
export function targetSize(width: number, height: number, detail: ResolvedDetail): ImageSize {
  assertDimensions(width, height);
  const longest = Math.max(width, height);
  const shortest = Math.min(width, height);
  // Fitting into 2048 and then capping the short side at 768 compose into one factor: the smallest of the three.
  const scale =
    detail === 'low'
      ? Math.min(1, LOW_DETAIL_MAX_SIDE / longest)
      : Math.min(1, HIGH_DETAIL_MAX_SIDE / longest, HIGH_DETAIL_MAX_SHORT_SIDE / shortest);
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

/**
 * GPT-4o image tokens for an image of this size at `detail`: low is a flat 85; high is 85 plus 170 per 512px tile
 * of the high-detail target size (the service scales first, so a huge image costs no more than its scaled copy).
 */
export function estimateImageTokens(width: number, height: number, detail: ResolvedDetail): number {
  assertDimensions(width, height);
  if (detail === 'low') {
    return BASE_TOKENS;
  }
  const scaled = targetSize(width, height, 'high');
  const tiles = Math.ceil(scaled.width / TILE_SIDE) * Math.ceil(scaled.height / TILE_SIDE);
  return BASE_TOKENS + TOKENS_PER_TILE * tiles;
}
