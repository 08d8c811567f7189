/** Public face of the fake Azure AI Vision Image Analysis endpoint used by integration tests. */
export type { FakeVisionObject } from './detectColourObjects';
export { COLOUR_OBJECTS, detectColourObjects } from './detectColourObjects';
export type { FakeVision, FakeVisionOptions, VisionAnswerContext, VisionAnswerRule, VisionFault, VisionRecordedRequest } from './fakeVisionServer';
export { startFakeVision } from './fakeVisionServer';
export { VISION_ANALYZE_PATH, VISION_API_VERSIONS, VISION_FEATURES, VISION_MAX_BYTES, VISION_MAX_SIDE_EXCLUSIVE, VISION_MIN_SIDE, VISION_MODEL_VERSION } from './visionContract';
