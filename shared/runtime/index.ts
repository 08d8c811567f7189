export type { ServiceOverrides, Services } from './createServices';
export { createServices, getServices, pipelineDeps } from './createServices';
export type { AuthLevel, EventGridFunctionDefinition, FunctionDefinition, FunctionName, HttpFunctionDefinition, HttpMethod } from './functionTable';
export { eventGridFunction, FUNCTIONS, httpFunction } from './functionTable';
