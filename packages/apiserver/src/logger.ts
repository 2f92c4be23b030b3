// The logging the apiserver needs: pino's call shape (fields first, then the message), so a
// master passes its own logger and tests a silent one.

export interface ApiLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const silentLogger: ApiLogger = { info: () => {}, warn: () => {}, error: () => {} };
