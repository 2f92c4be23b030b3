// tick-election ID...: ticks each node just enough for its election timer to fire: a follower or
// candidate campaigns, a leader runs its check-quorum round.

import type { Raft } from '../../../src/index.js';
import { ScriptError, checkOptions, positionalIds, type Command } from '../command.js';
import type { Handler, InteractionEnv } from '../env.js';

/** Ticks until the election timer fires, read from the core so scripts need not know the random draw. */
export function ticksToElection(env: InteractionEnv, raft: Raft): number {
  const timeout = raft.role === 'leader' ? env.electionTicks : raft.randomizedElectionTimeout;
  return Math.max(1, timeout - raft.electionElapsed);
}

/** Runs a `tick-<timer> ID...` command: ticks each named node, in turn, as often as `ticksFor` says for its state. */
export function tickEachNamed(env: InteractionEnv, cmd: Command, usage: string, ticksFor: (raft: Raft) => number): void {
  checkOptions(cmd, []);
  const ids = positionalIds(cmd);
  if (ids.length === 0) throw new ScriptError(`usage: ${usage}`);
  for (const id of ids) {
    const n = env.runningNode(id);
    const count = ticksFor(n.node.raft);
    for (let i = 0; i < count; i++) n.node.tick();
  }
}

export const tickElection: Handler = {
  name: 'tick-election',
  usage: 'tick-election ID...',
  run(env, cmd) {
    tickEachNamed(env, cmd, this.usage, (raft) => ticksToElection(env, raft));
  },
};
