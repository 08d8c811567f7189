export { inSpan, INSTRUMENTATION_NAME } from './inSpan';
export { instruments, METRIC } from './metrics';
export { recordReview } from './recordReview';
export type { TelemetrySetup } from './setupTelemetry';
export { setupTelemetry } from './setupTelemetry';
export { IMAGE_SPAN, recordImageOutcome, recordReconcile, recordRedelivery, traceBlobEvent } from './traceImage';
export { withTraceParent } from './withTraceParent';
