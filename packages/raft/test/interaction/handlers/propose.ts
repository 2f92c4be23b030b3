// propose ID DATA: proposes DATA (a word or a "quoted string") on the node; a refusal prints its error.

import { checkOptions, checkPositionalCount, positionalInt, unquote } from '../command.js';
import type { Handler } from '../env.js';

const encoder = new TextEncoder();

export const propose: Handler = {
  name: 'propose',
  usage: 'propose ID DATA',
  run(env, cmd) {
    checkPositionalCount(cmd, 2, 2, this.usage);
    checkOptions(cmd, []);
    const n = env.runningNode(positionalInt(cmd, 0, 'node id'));
    const data = encoder.encode(unquote(cmd.positional[1] as string));
    env.printingRaftErrors(() => {
      n.node.propose(data);
    });
  },
};
