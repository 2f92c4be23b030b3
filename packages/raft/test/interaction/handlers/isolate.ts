// isolate ID: cuts every link to and from the node, until heal; messages already on those links
// are lost too.

import { checkOptions, checkPositionalCount, positionalInt } from '../command.js';
import type { Handler } from '../env.js';

export const isolate: Handler = {
  name: 'isolate',
  usage: 'isolate ID',
  run(env, cmd) {
    checkPositionalCount(cmd, 1, 1, this.usage);
    checkOptions(cmd, []);
    const id = positionalInt(cmd, 0, 'node id');
    env.testNode(id);
    env.cluster.isolate(id);
    env.isolated.add(id);
    env.dropQueued((m) => m.to === id || m.from === id);
  },
};
