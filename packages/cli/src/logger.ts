// JSON-line logs (pino) for the standalone components: every line names the component, this
// replica's identity and pid, so the lines of two replicas interleaved in one collector still say
// which replica led when.

import pino, { type Logger } from 'pino';
import type { LogLevel } from './component-options.js';

export function createComponentLogger(fields: { component: string; identity: string }, level: LogLevel): Logger {
  return pino(
    {
      level,
      base: { ...fields, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    // Synchronous writes: a replica that exits right after logging why must not lose the line.
    pino.destination({ dest: 1, sync: true }),
  );
}
