// crash ID: the node stops; it keeps only what it persisted (storage and the applied state
// machine). Messages on their way to it are lost.

import { checkOptions, checkPositionalCount, positionalInt } from '../command.js';
import type { Handler } from '../env.js';

export const crash: Handler = {
  name: 'crash',
  usage: 'crash ID',
  run(env, cmd) {
    checkPositionalCount(cmd, 1, 1, this.usage);
    checkOptions(cmd, []);
    const id = positionalInt(cmd, 0, 'node id');
    env.runningNode(id);
    env.cluster.crash(id);
    env.dropQueued((m) => m.to === id);
  },
};
