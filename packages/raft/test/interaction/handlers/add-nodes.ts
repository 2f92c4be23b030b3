// add-nodes N [voters=(1,...,N)] [election=T] [heartbeat=T] [pre-vote=B] [check-quorum=B] ...:
// builds the script's cluster of nodes 1..N, each option passed to every node's RaftConfig.

import type { NodeOptions } from '../../support/test-node.js';
import { ScriptError, checkOptions, checkPositionalCount, parseBoolean, parseIdList, parseInteger, positionalInt } from '../command.js';
import type { Handler } from '../env.js';

type NumberOption = {
  [K in keyof NodeOptions]-?: NonNullable<NodeOptions[K]> extends number ? K : never;
}[keyof NodeOptions];
type BooleanOption = {
  [K in keyof NodeOptions]-?: NonNullable<NodeOptions[K]> extends boolean ? K : never;
}[keyof NodeOptions];

/** Script option name -> RaftConfig field. */
const numberOptions: Readonly<Record<string, NumberOption>> = {
  election: 'electionTimeoutTicks',
  heartbeat: 'heartbeatIntervalTicks',
  'message-bytes-max': 'messageBytesMax',
  'inflight-msgs-max': 'inflightMsgsMax',
  'inflight-bytes-max': 'inflightBytesMax',
  'uncommitted-bytes-max': 'uncommittedBytesMax',
  'committed-bytes-per-ready-max': 'committedBytesPerReadyMax',
  'snapshot-chunk-bytes': 'snapshotChunkBytesMax',
  'read-index-requests-max': 'readIndexRequestsMax',
};
const booleanOptions: Readonly<Record<string, BooleanOption>> = {
  'pre-vote': 'preVote',
  'check-quorum': 'checkQuorum',
  'proposal-forwarding': 'proposalForwarding',
};

export const addNodes: Handler = {
  name: 'add-nodes',
  usage: 'add-nodes N [voters=(1,...,N)] [election=T] [heartbeat=T] [pre-vote=B] [check-quorum=B] [...]',
  run(env, cmd) {
    checkPositionalCount(cmd, 1, 1, this.usage);
    checkOptions(cmd, ['voters', ...Object.keys(numberOptions), ...Object.keys(booleanOptions)]);
    const count = positionalInt(cmd, 0, 'node count');
    if (count < 1) throw new ScriptError('add-nodes: at least one node');
    const ids = Array.from({ length: count }, (_, i) => i + 1);
    const voters = cmd.options.get('voters');
    // TestCluster makes every node a voter; a different voter set would need membership changes.
    if (voters !== undefined && parseIdList(voters, 'voters').sort((a, b) => a - b).join(',') !== ids.join(',')) {
      throw new ScriptError(`add-nodes: voters must be every node (${ids.join(',')}), got ${voters}`);
    }
    const options: { -readonly [K in keyof NodeOptions]: NodeOptions[K] } = {};
    for (const [name, field] of Object.entries(numberOptions)) {
      const value = cmd.options.get(name);
      if (value !== undefined) options[field] = parseInteger(value, `add-nodes: ${name}`);
    }
    for (const [name, field] of Object.entries(booleanOptions)) {
      const value = cmd.options.get(name);
      if (value !== undefined) options[field] = parseBoolean(value, `add-nodes: ${name}`);
    }
    if (options.electionTimeoutTicks !== undefined) env.electionTicks = options.electionTimeoutTicks;
    if (options.heartbeatIntervalTicks !== undefined) env.heartbeatTicks = options.heartbeatIntervalTicks;
    env.printingRaftErrors(() => env.createCluster(ids, options));
  },
};
