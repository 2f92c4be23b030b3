// raft-log ID: the node's log: the snapshot it starts from, the entries in storage (durable), and
// the entries the core holds that are not yet persisted.

import { checkOptions, checkPositionalCount, positionalInt } from '../command.js';
import type { Handler, InteractionEnv } from '../env.js';
import { formatEntry } from '../format.js';

export function writeRaftLog(env: InteractionEnv, id: number): void {
  const n = env.testNode(id);
  const storage = n.storage;
  const snap = storage.snapshot().metadata;
  if (snap.index > 0) env.write(`snapshot ${snap.term}/${snap.index}`);
  const first = storage.firstIndex();
  const last = storage.lastIndex();
  const stored = last < first ? [] : storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER);
  for (const e of stored) env.write(formatEntry(e));
  // Held only in memory: a crash loses them.
  const held = env.cluster.isDown(id) ? null : n.node.raft.raftLog.unstable;
  if (held?.snapshot != null) env.write(`snapshot ${held.snapshot.metadata.term}/${held.snapshot.metadata.index} (unstable)`);
  const unstable = held === null ? [] : held.entries;
  for (const e of unstable) env.write(`${formatEntry(e)} (unstable)`);
  if (snap.index === 0 && stored.length === 0 && unstable.length === 0 && held?.snapshot == null) env.write('log is empty');
}

export const raftLog: Handler = {
  name: 'raft-log',
  usage: 'raft-log ID',
  run(env, cmd) {
    checkPositionalCount(cmd, 1, 1, this.usage);
    checkOptions(cmd, []);
    writeRaftLog(env, positionalInt(cmd, 0, 'node id'));
  },
};
