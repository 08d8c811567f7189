export type { NextForReview, ReviewQueueOptions } from './ReviewQueue';
export { ReviewQueue } from './ReviewQueue';
