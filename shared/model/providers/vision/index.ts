/** MODEL_PROVIDER=azure-ai-vision: Image Analysis 4.0 objects behind the Classifier interface. */
import type { TokenCredential } from '@azure/identity';

import type { BlobsightConfig, ModelConfig } from '../../../config';
import { VisionClassifier } from './VisionClassifier';

export type { AnalyzeResult, VisionObject } from './analyzeResult';
export { analyzeResultSchema, parseAnalyzeResult } from './analyzeResult';
export type { VisionUpload } from './fitVisionLimits';
export { fitVisionLimits } from './fitVisionLimits';
export type { ProfileObjects } from './toProfileObjects';
export { toProfileObjects } from './toProfileObjects';
export type { VisionClassifierOptions } from './VisionClassifier';
export { VisionClassifier } from './VisionClassifier';
export type { VisionImageLimits } from './visionContract';
export { ANALYZE_PATH, OBJECTS_FEATURE, VISION_DEPLOYMENT, VISION_IMAGE_LIMITS } from './visionContract';
export { mapVisionError, VISION_AUTH_FIX, VISION_ENDPOINT_FIX, VisionHttpError } from './visionError';

export interface CreateVisionClassifierOptions {
  model: Extract<ModelConfig, { provider: 'azure-ai-vision' }>;
  request: BlobsightConfig['modelRequest'];
  /** The app's one credential; used only when no VISION_API_KEY is configured. */
  getCredential?: (() => TokenCredential) | undefined;
  fetch?: typeof fetch | undefined;
}

/** The Vision classifier from its settings: keyless with the app's credential unless the user set VISION_API_KEY. */
export function createVisionClassifier({ model, request, getCredential, fetch }: CreateVisionClassifierOptions): VisionClassifier {
  if (model.apiKey === undefined && getCredential === undefined) throw new Error('createVisionClassifier: keyless Azure AI Vision needs the app credential.');
  return new VisionClassifier({
    endpoint: model.endpoint,
    apiVersion: model.apiVersion,
    apiKey: model.apiKey,
    credential: model.apiKey === undefined ? getCredential?.() : undefined,
    timeoutMs: request.timeoutMs,
    maxRetries: request.maxRetries,
    usdPer1000: model.usdPer1000,
    ...(fetch === undefined ? {} : { fetch }),
  });
}
