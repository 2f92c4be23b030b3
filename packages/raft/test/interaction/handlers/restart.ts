// restart ID: a crashed node starts again from its storage; anything it had not persisted (an
// unfinished Ready, unstable entries, votes not yet written) is gone.

import { ScriptError, checkOptions, checkPositionalCount, positionalInt } from '../command.js';
import type { Handler } from '../env.js';

export const restart: Handler = {
  name: 'restart',
  usage: 'restart ID',
  run(env, cmd) {
    checkPositionalCount(cmd, 1, 1, this.usage);
    checkOptions(cmd, []);
    const id = positionalInt(cmd, 0, 'node id');
    env.testNode(id);
    if (!env.cluster.isDown(id)) throw new ScriptError(`restart: node ${id} is running; crash it first`);
    env.printingRaftErrors(() => env.cluster.restart(id));
  },
};
