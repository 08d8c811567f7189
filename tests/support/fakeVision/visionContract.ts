/**
 * The facts of Image Analysis 4.0 the fake enforces, from image-analysis-2023-10-01.json (IA) and the Vision docs
 * digested in shared/specs CONTRACTS.md (f); tests/integration/visionFake.test.ts checks them against the spec file.
 */

/** IA's only version, and the one the docs' REST guide (ia-rest) uses. Anything else is refused. */
export const VISION_API_VERSIONS = ['2023-10-01', '2024-02-01'] as const;

/** `VisualFeatures` in IA. */
export const VISION_FEATURES = ['tags', 'caption', 'denseCaptions', 'objects', 'read', 'smartCrops', 'people'] as const;

/** The route: the host template `{endpoint}/computervision` plus `/imageanalysis:analyze`. */
export const VISION_ANALYZE_PATH = '/computervision/imageanalysis:analyze';

/** ia-overview: larger than 50 x 50 and smaller than 16,000 x 16,000 pixels; ia-rest: refused above 20,971,520 bytes. */
export const VISION_MIN_SIDE = 50;
export const VISION_MAX_SIDE_EXCLUSIVE = 16_000;
export const VISION_MAX_BYTES = 20_971_520;

/** The model version the fake reports in `modelVersion`. */
export const VISION_MODEL_VERSION = '2023-10-01';
