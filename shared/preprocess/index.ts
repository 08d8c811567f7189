/** Public surface of preprocessing: sharp-based image preparation and GPT-4o image token arithmetic. */
export type { ImageDetail, ImageSize, ResolvedDetail } from './imageTokens';
export { estimateImageTokens, resolveDetail, targetSize } from './imageTokens';
export type { OriginalImageFacts, PreprocessedImage, SupportedFormat } from './preprocessedImage';
export type { PreprocessOptions } from './preprocessImage';
export { preprocessImage } from './preprocessImage';
export type { ImageContainer, SniffResult } from './sniffImageFormat';
export { sniffImageFormat } from './sniffImageFormat';
