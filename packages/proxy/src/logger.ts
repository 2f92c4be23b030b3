// The logging the proxy needs: pino's call shape (fields first, then the message), so the CLI passes
// its pino logger and tests a silent one.

export interface ProxyLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

const ignore = (): void => {};

export const silentLogger: ProxyLogger = Object.freeze({ debug: ignore, info: ignore, warn: ignore });
