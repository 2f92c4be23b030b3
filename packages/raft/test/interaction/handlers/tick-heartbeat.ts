// tick-heartbeat ID...: ticks each node just enough for a leader's heartbeat timer to fire (a
// non-leader is ticked one heartbeat interval).

import type { Handler } from '../env.js';
import { tickEachNamed } from './tick-election.js';

export const tickHeartbeat: Handler = {
  name: 'tick-heartbeat',
  usage: 'tick-heartbeat ID...',
  run(env, cmd) {
    tickEachNamed(env, cmd, this.usage, (raft) =>
      raft.role === 'leader' ? Math.max(1, env.heartbeatTicks - raft.heartbeatElapsed) : env.heartbeatTicks,
    );
  },
};
