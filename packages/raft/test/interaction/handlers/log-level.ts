// log-level none|info|warn: which of the core's log lines (RaftConfig.logger) are printed.

import { ScriptError, checkOptions, checkPositionalCount } from '../command.js';
import type { Handler, LogLevel } from '../env.js';

const levels: readonly LogLevel[] = ['none', 'info', 'warn'];

export const logLevel: Handler = {
  name: 'log-level',
  usage: 'log-level none|info|warn',
  run(env, cmd) {
    checkPositionalCount(cmd, 1, 1, this.usage);
    checkOptions(cmd, []);
    const level = cmd.positional[0] as LogLevel;
    if (!levels.includes(level)) throw new ScriptError(`log-level: expected one of ${levels.join(', ')}, got ${level}`);
    env.logLevel = level;
  },
};
