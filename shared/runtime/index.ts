export type { ServiceOverrides, Services } from './createServices';
export { createServices, getServices, pipelineDeps } from './createServices';
