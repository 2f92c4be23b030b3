// Structured JSON log lines (pino): every line names the master, and once the Raft loop runs, its
// current term and commit index.

import pino, { type Logger } from 'pino';

/** Where log lines get the Raft position from; set once the master is running. */
export interface LogPosition {
  source: (() => { term: number; index: number }) | null;
}

export function createLogger(fields: { master: number; cluster: string }, level = 'info', position: LogPosition = { source: null }): Logger {
  return pino(
    {
      level,
      base: { ...fields, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: () => position.source?.() ?? {},
    },
    // Synchronous writes: a master that dies right after logging why must not lose the line.
    pino.destination({ dest: 1, sync: true }),
  );
}
