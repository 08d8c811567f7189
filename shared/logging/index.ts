export type { Logger } from './Logger';
export { consoleLogger, silentLogger } from './Logger';
