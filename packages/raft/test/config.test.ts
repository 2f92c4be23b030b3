// Configuration is validated whole when a node is built: each bad option gets its own
// RAFT_INVALID_CONFIG error naming it, and unknown options are rejected by name (house rule 9).

import { describe, expect, it } from 'vitest';
import {
  MemoryStorage,
  RaftErrorCode,
  RawNode,
  isRaftError,
  raftDefaults,
  seededRandom,
  validateRaftConfig,
  type RaftConfig,
} from '../src/index.js';
import { thrownCode } from './support/fixtures.js';

function validConfig(): RaftConfig {
  return { ...raftDefaults, id: 1, storage: new MemoryStorage({ voters: [1, 2, 3] }), random: seededRandom(1) };
}

/** The option named by the RaftError that validating `overrides` raises, or a description of what happened instead. */
function rejectedOption(overrides: Record<string, unknown>, build: (config: RaftConfig) => unknown = validateRaftConfig): string {
  const config = { ...validConfig(), ...overrides } as RaftConfig;
  try {
    build(config);
  } catch (error) {
    if (isRaftError(error, RaftErrorCode.InvalidConfig)) return error.details.option ?? '(no option named)';
    return `threw ${error instanceof Error ? error.name : typeof error} instead of a RaftError`;
  }
  return 'accepted';
}

describe('raft config validation', () => {
  it('accepts the defaults with an id, a storage and a random source', () => {
    expect(() => validateRaftConfig(validConfig())).not.toThrow();
    expect(new RawNode(validConfig()).status().role).toBe('follower');
  });

  it('accepts the smallest legal values', () => {
    const smallest = {
      applied: 0,
      electionTimeoutTicks: 2,
      heartbeatIntervalTicks: 1,
      messageBytesMax: 1,
      inflightMsgsMax: 1,
      inflightBytesMax: 0,
      uncommittedBytesMax: 1,
      committedBytesPerReadyMax: 1,
      snapshotChunkBytesMax: 1,
      readIndexRequestsMax: 1,
    };
    expect(rejectedOption(smallest)).toBe('accepted');
  });

  it('accepts an optional logger', () => {
    expect(rejectedOption({ logger: { info() {}, warn() {} } })).toBe('accepted');
  });

  const invalid: ReadonlyArray<{ option: string; value: unknown }> = [
    { option: 'id', value: 0 },
    { option: 'id', value: -1 },
    { option: 'id', value: 1.5 },
    { option: 'id', value: '1' },
    { option: 'id', value: undefined },
    { option: 'storage', value: undefined },
    { option: 'storage', value: {} },
    { option: 'storage', value: null },
    { option: 'random', value: undefined },
    { option: 'random', value: { next: () => 0 } },
    { option: 'random', value: null },
    { option: 'applied', value: -1 },
    { option: 'applied', value: 0.5 },
    { option: 'electionTimeoutTicks', value: 0 },
    { option: 'electionTimeoutTicks', value: Number.POSITIVE_INFINITY },
    { option: 'electionTimeoutTicks', value: Number.NaN },
    { option: 'electionTimeoutTicks', value: 1 }, // not above heartbeatIntervalTicks (1)
    { option: 'heartbeatIntervalTicks', value: 0 },
    { option: 'messageBytesMax', value: 0 },
    { option: 'inflightMsgsMax', value: 0 },
    { option: 'inflightMsgsMax', value: 2.5 },
    { option: 'inflightBytesMax', value: -1 },
    { option: 'uncommittedBytesMax', value: 0 },
    { option: 'committedBytesPerReadyMax', value: 0 },
    { option: 'snapshotChunkBytesMax', value: 0 },
    { option: 'readIndexRequestsMax', value: 0 },
    { option: 'readIndexRequestsMax', value: '10' },
    { option: 'preVote', value: 'yes' },
    { option: 'preVote', value: undefined },
    { option: 'checkQuorum', value: 1 },
    { option: 'proposalForwarding', value: null },
    { option: 'logger', value: {} },
  ];
  it.each(invalid)('$option = $value is refused with RAFT_INVALID_CONFIG naming $option', ({ option, value }) => {
    expect(rejectedOption({ [option]: value })).toBe(option);
  });

  it('electionTimeoutTicks equal to heartbeatIntervalTicks is refused, naming the election timeout', () => {
    expect(rejectedOption({ electionTimeoutTicks: 5, heartbeatIntervalTicks: 5 })).toBe('electionTimeoutTicks');
    expect(rejectedOption({ electionTimeoutTicks: 5, heartbeatIntervalTicks: 6 })).toBe('electionTimeoutTicks');
    expect(rejectedOption({ electionTimeoutTicks: 6, heartbeatIntervalTicks: 5 })).toBe('accepted');
  });

  it.each(['electionTimeout', 'maxSizePerMsg', 'heartbeatTicks', 'preVotes'])('unknown option %s is refused by name', (option) => {
    expect(rejectedOption({ [option]: 10 })).toBe(option);
  });

  it('RawNode validates before it builds anything', () => {
    expect(rejectedOption({ inflightMsgsMax: 0 }, (config) => new RawNode(config))).toBe('inflightMsgsMax');
    expect(rejectedOption({ bogus: true }, (config) => new RawNode(config))).toBe('bogus');
  });

  it('the error carries its code, and the defaults object cannot be changed', () => {
    expect(thrownCode(() => validateRaftConfig({ ...validConfig(), messageBytesMax: 0 }))).toBe('RAFT_INVALID_CONFIG');
    expect(Object.isFrozen(raftDefaults)).toBe(true);
  });
});
