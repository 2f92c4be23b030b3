// tick ID [N]: advances the node's logical clock by N ticks (default 1).

import { ScriptError, checkOptions, checkPositionalCount, positionalInt } from '../command.js';
import type { Handler } from '../env.js';

export const tick: Handler = {
  name: 'tick',
  usage: 'tick ID [N]',
  run(env, cmd) {
    checkPositionalCount(cmd, 1, 2, this.usage);
    checkOptions(cmd, []);
    const n = env.runningNode(positionalInt(cmd, 0, 'node id'));
    const count = cmd.positional.length > 1 ? positionalInt(cmd, 1, 'tick count') : 1;
    if (count < 1) throw new ScriptError('tick: count must be at least 1');
    for (let i = 0; i < count; i++) n.node.tick();
  },
};
