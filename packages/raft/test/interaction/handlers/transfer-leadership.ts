// transfer-leadership FROM TO: asks node FROM (the leader, or a follower that forwards it) to hand
// leadership to TO (thesis §3.10).

import { checkOptions, checkPositionalCount, positionalInt } from '../command.js';
import type { Handler } from '../env.js';

export const transferLeadership: Handler = {
  name: 'transfer-leadership',
  usage: 'transfer-leadership FROM TO',
  run(env, cmd) {
    checkPositionalCount(cmd, 2, 2, this.usage);
    checkOptions(cmd, []);
    const n = env.runningNode(positionalInt(cmd, 0, 'node id FROM'));
    const to = positionalInt(cmd, 1, 'node id TO');
    env.printingRaftErrors(() => n.node.transferLeadership(to));
  },
};
