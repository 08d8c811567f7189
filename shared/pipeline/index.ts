export type { ClassifyBytesDeps, ClassifyBytesResult } from './classifyBytes';
export { classifyBytes } from './classifyBytes';
export { classificationFields, decideStatus, flattenLabels } from './decideStatus';
export type { BlobOutcome, PipelineDeps } from './processBlobCreated';
export { processBlobCreated } from './processBlobCreated';
export type { ReconcileOptions, ReconcileReport } from './reconcile';
export type { ReconcileFailure } from './reconcile';
export { reconcile } from './reconcile';
