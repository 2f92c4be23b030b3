// status ID: the node's role, term, vote, commit and applied indexes, log bounds, and on a leader
// each follower's progress (probe, replicate or snapshot; match and next).

import { checkOptions, checkPositionalCount, positionalInt } from '../command.js';
import type { Handler } from '../env.js';
import { formatStatus } from '../format.js';

export const status: Handler = {
  name: 'status',
  usage: 'status ID',
  run(env, cmd) {
    checkPositionalCount(cmd, 1, 1, this.usage);
    checkOptions(cmd, []);
    const n = env.runningNode(positionalInt(cmd, 0, 'node id'));
    env.writeAll(formatStatus(n.node.status()));
  },
};
