// heal: restores every link cut by isolate.

import { checkOptions, checkPositionalCount } from '../command.js';
import type { Handler } from '../env.js';

export const heal: Handler = {
  name: 'heal',
  usage: 'heal',
  run(env, cmd) {
    checkPositionalCount(cmd, 0, 0, this.usage);
    checkOptions(cmd, []);
    env.cluster.heal();
    env.isolated.clear();
  },
};
