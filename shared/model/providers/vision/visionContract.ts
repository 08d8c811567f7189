/**
 * The facts of Image Analysis 4.0 the client relies on, from image-analysis-2023-10-01.json and the Vision docs digested
 * in shared/specs CONTRACTS.md (f): the route, the feature, and the input limits checked before a request is paid for.
 */

/** `POST {endpoint}/computervision/imageanalysis:analyze` (the spec's host template adds /computervision). */
export const ANALYZE_PATH = '/computervision/imageanalysis:analyze';

/** The only feature asked for: boxes with one tag each. Objects are "only available in English", the default language. */
export const OBJECTS_FEATURE = 'objects';

/** What the client reports as the deployment: the service has none, the feature is the model. */
export const VISION_DEPLOYMENT = 'image-analysis-4.0-objects';

/** Input limits (ia-overview): larger than 50 x 50 and smaller than 16,000 x 16,000 pixels, under 20 MB. */
export interface VisionImageLimits {
  /** Smallest accepted side, pixels (inclusive). */
  minSide: number;
  /** Largest accepted side, pixels (inclusive); the docs say "less than 16,000", so 15,999. */
  maxSide: number;
  /** Largest accepted body, bytes (inclusive); the REST guide refuses "> 20971520 bytes", the overview says "< 20 MB". */
  maxBytes: number;
}

export const VISION_IMAGE_LIMITS: VisionImageLimits = { minSide: 50, maxSide: 15_999, maxBytes: 20 * 1024 * 1024 - 1 };
