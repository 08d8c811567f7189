/**
 * Preprocessing started before it is asked for: the Event Grid flow begins it as soon as the bytes and the profile
 * are known, so it runs while the content cache is read and leased (Cosmos round trips) instead of after them.
 */
import type { PreprocessOptions } from '../preprocess';
import { preprocessImage } from '../preprocess';
import type { PreprocessedImage } from '../preprocess/preprocessedImage';
import type { StageRecorder } from './stageRecorder';
import { timed } from './stageRecorder';

export type Preprocess = (bytes: Buffer, options: PreprocessOptions) => Promise<PreprocessedImage>;

/**
 * Starts preprocessing `bytes` now and returns a `Preprocess` that hands out that result for the same bytes and
 * options (anything else is preprocessed afresh). A cache hit never asks, and the work is simply dropped; a failure
 * (a damaged image) surfaces where it is asked for, exactly as if it had started there.
 */
export function preprocessAhead(bytes: Buffer, options: PreprocessOptions, stages?: StageRecorder): Preprocess {
  const started = timed(stages, 'preprocess', () => preprocessImage(bytes, options));
  // Handled where it is awaited; without this a refused image on a cache hit would be an unhandled rejection.
  started.catch(() => undefined);
  return (b, o) => (b === bytes && o.detail === options.detail && o.maxBytes === options.maxBytes && o.maxPixels === options.maxPixels ? started : preprocessImage(b, o));
}
