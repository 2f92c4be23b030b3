// tick-heartbeat ID...: ticks each node just enough for a leader's heartbeat timer to fire (a
// non-leader is ticked one heartbeat interval).

import { ScriptError, checkOptions, positionalIds } from '../command.js';
import type { Handler } from '../env.js';

export const tickHeartbeat: Handler = {
  name: 'tick-heartbeat',
  usage: 'tick-heartbeat ID...',
  run(env, cmd) {
    checkOptions(cmd, []);
    const ids = positionalIds(cmd);
    if (ids.length === 0) throw new ScriptError(`usage: ${this.usage}`);
    for (const id of ids) {
      const n = env.runningNode(id);
      const raft = n.node.raft;
      const count = raft.role === 'leader' ? Math.max(1, env.heartbeatTicks - raft.heartbeatElapsed) : env.heartbeatTicks;
      for (let i = 0; i < count; i++) n.node.tick();
    }
  },
};
