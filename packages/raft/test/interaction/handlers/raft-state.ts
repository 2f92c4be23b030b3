// raft-state: one line per node: role, term and known leader, and whether it is down or isolated.

import { checkOptions, checkPositionalCount } from '../command.js';
import type { Handler } from '../env.js';

export const raftState: Handler = {
  name: 'raft-state',
  usage: 'raft-state',
  run(env, cmd) {
    checkPositionalCount(cmd, 0, 0, this.usage);
    checkOptions(cmd, []);
    for (const id of env.ids()) {
      if (env.cluster.isDown(id)) {
        env.write(`${id}: down`);
        continue;
      }
      const raft = env.testNode(id).node.raft;
      const isolated = env.isolated.has(id) ? ' (isolated)' : '';
      env.write(`${id}: ${raft.role} term=${raft.term} lead=${raft.lead}${isolated}`);
    }
  },
};
