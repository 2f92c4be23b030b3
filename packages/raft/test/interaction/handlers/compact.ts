// compact ID INDEX: the node snapshots its state machine at its applied index and discards the
// stored entries up to and including INDEX; prints the log that is left.

import { ScriptError, checkOptions, checkPositionalCount, positionalInt } from '../command.js';
import type { Handler } from '../env.js';
import { writeRaftLog } from './raft-log.js';

export const compact: Handler = {
  name: 'compact',
  usage: 'compact ID INDEX',
  run(env, cmd) {
    checkPositionalCount(cmd, 2, 2, this.usage);
    checkOptions(cmd, []);
    const id = positionalInt(cmd, 0, 'node id');
    const index = positionalInt(cmd, 1, 'index');
    const n = env.runningNode(id);
    const applied = n.app.appliedIndex;
    const snapIndex = n.storage.snapshot().metadata.index;
    // The state machine can only be snapshotted as it is now, so the snapshot is at `applied`.
    if (index > applied || index <= snapIndex) {
      throw new ScriptError(`compact: index must be in (${snapIndex}, ${applied}] (above the last snapshot, applied)`);
    }
    n.compact(applied - index);
    writeRaftLog(env, id);
  },
};
