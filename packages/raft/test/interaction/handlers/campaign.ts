// campaign ID: the node starts an election now, as if its election timer had fired.

import { checkOptions, checkPositionalCount, positionalInt } from '../command.js';
import type { Handler } from '../env.js';

export const campaign: Handler = {
  name: 'campaign',
  usage: 'campaign ID',
  run(env, cmd) {
    checkPositionalCount(cmd, 1, 1, this.usage);
    checkOptions(cmd, []);
    const n = env.runningNode(positionalInt(cmd, 0, 'node id'));
    env.printingRaftErrors(() => n.node.campaign());
  },
};
