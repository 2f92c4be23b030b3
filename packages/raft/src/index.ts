// @raftplane/raft: the Raft algorithm as a pure, deterministic state machine.

export { raftDefaults, validateRaftConfig, type RaftConfig, type RaftLogger } from './config.js';
export { RaftError, RaftErrorCode, isRaftError, invariant, type ProposalDroppedReason, type RaftErrorDetails } from './errors.js';
export { seededRandom, type Random } from './random.js';
export { MemoryStorage, type InitialState, type Storage } from './storage.js';
export { majorityCommittedIndex, majorityVoteResult, type VoteResult } from './quorum.js';
export { RawNode, hardStateEqual, type ProgressStatus, type ProposalPosition, type Status } from './raw-node.js';
export { Raft } from './raft.js';
export * from './types.js';
