// The logger the client writes to: the pino call shape (fields first, then the message), so a
// master or agent passes its pino logger straight in. Silent unless one is given.

export interface ClientLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

const ignore = (): void => {};

export const silentLogger: ClientLogger = Object.freeze({ debug: ignore, info: ignore, warn: ignore });
