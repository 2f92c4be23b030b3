// report-unreachable ID PEER: node ID's transport reports that a message to PEER could not be sent.

import { checkOptions, checkPositionalCount, positionalInt } from '../command.js';
import type { Handler } from '../env.js';

export const reportUnreachable: Handler = {
  name: 'report-unreachable',
  usage: 'report-unreachable ID PEER',
  run(env, cmd) {
    checkPositionalCount(cmd, 2, 2, this.usage);
    checkOptions(cmd, []);
    const n = env.runningNode(positionalInt(cmd, 0, 'node id'));
    const peer = positionalInt(cmd, 1, 'peer id');
    env.testNode(peer);
    env.printingRaftErrors(() => n.node.reportUnreachable(peer));
  },
};
