/** The logging surface shared/ code uses; Functions' InvocationContext, the console and tests all fit it. */

export interface Logger {
  info(message: string, props?: Record<string, unknown>): void;
  warn(message: string, props?: Record<string, unknown>): void;
  error(message: string, props?: Record<string, unknown>): void;
}

/** Drops everything; the default where nobody is listening. */
export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** One JSON line per entry on stdout/stderr, for the CLI and the dev host. */
export const consoleLogger: Logger = {
  info: (message, props) => console.log(JSON.stringify({ level: 'info', message, ...props })),
  warn: (message, props) => console.warn(JSON.stringify({ level: 'warn', message, ...props })),
  error: (message, props) => console.error(JSON.stringify({ level: 'error', message, ...props })),
};
