export type { ServiceOverrides, Services } from './createServices';
export { createServices, getServices, pipelineDeps } from './createServices';
export type { AuthLevel, EventGridFunctionDefinition, FunctionDefinition, FunctionName, HttpFunctionDefinition, HttpMethod, QueueFunctionDefinition, TimerFunctionDefinition } from './functionTable';
export { eventGridFunction, FUNCTIONS, httpFunction, queueFunction, timerFunction } from './functionTable';
export type { ReconcileTimerReport } from './reconcileTimer';
export { reconcileTimer } from './reconcileTimer';
