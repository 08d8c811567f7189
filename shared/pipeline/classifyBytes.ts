/** Preprocess then classify one image's bytes: the core shared by the Event Grid flow and on-demand HTTP classify. */
import type { ModelClassification } from '../model/classification';
import type { Classifier } from '../model/classifier';
import { preprocessImage } from '../preprocess';
import type { PreprocessedImage } from '../preprocess/preprocessedImage';
import type { Profile } from '../profiles/profileSchema';
import { decideStatus } from './decideStatus';

export interface ClassifyBytesDeps {
  classifier: Classifier;
  limits: { maxBytes: number; maxPixels: number };
}

export interface ClassifyBytesResult {
  status: 'classified' | 'needs_review';
  image: PreprocessedImage;
  classification: ModelClassification;
  timings: { preprocessMs: number; modelMs: number };
}

/** Throws PermanentError for bad input or a refused answer, TransientError when trying again later can help. */
export async function classifyBytes(bytes: Buffer, profile: Profile, deps: ClassifyBytesDeps, signal?: AbortSignal): Promise<ClassifyBytesResult> {
  const t0 = performance.now();
  const image = await preprocessImage(bytes, { detail: profile.detail, maxBytes: deps.limits.maxBytes, maxPixels: deps.limits.maxPixels });
  const t1 = performance.now();
  const classification = await deps.classifier.classify(signal === undefined ? { image, profile } : { image, profile, signal });
  const t2 = performance.now();
  return {
    status: decideStatus(classification, profile),
    image,
    classification,
    timings: { preprocessMs: round(t1 - t0), modelMs: round(t2 - t1) },
  };
}

export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
