// read-index ID CTX: asks the node for a linearizable read point tagged CTX (thesis §6.4).

import { checkOptions, checkPositionalCount, positionalInt, unquote } from '../command.js';
import type { Handler } from '../env.js';

const encoder = new TextEncoder();

export const readIndex: Handler = {
  name: 'read-index',
  usage: 'read-index ID CTX',
  run(env, cmd) {
    checkPositionalCount(cmd, 2, 2, this.usage);
    checkOptions(cmd, []);
    const n = env.runningNode(positionalInt(cmd, 0, 'node id'));
    const context = encoder.encode(unquote(cmd.positional[1] as string));
    env.printingRaftErrors(() => n.node.readIndex(context));
  },
};
