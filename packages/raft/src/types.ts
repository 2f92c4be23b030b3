// The data the Raft core exchanges with its caller: entries, messages, durable state and Ready.

/** A member of the cluster. 0 (`NONE`) means "no node". */
export type NodeId = number;
export const NONE: NodeId = 0;

export const EntryType = {
  /** An application command; an empty `data` is the leader's no-op for its term (Raft §5.4.2, §8). */
  Normal: 0,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** Durable state of a node (Raft Figure 2, "persistent state on all servers", plus commit). */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

/**
 * The voter set. It lives in storage and snapshots, never in constants, so that membership
 * changes can move it later without touching the algorithm (thesis §4).
 */
export interface ConfState {
  /** Sorted ascending, no duplicates. */
  readonly voters: readonly NodeId[];
}

export interface SnapshotMetadata {
  /** Index of the last entry the snapshot covers. */
  readonly index: number;
  /** Term of that entry. */
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

/**
 * One piece of a snapshot on the wire (thesis §5.2, Figure 5.3: InstallSnapshot with offset and
 * done). In `Snap` it carries bytes [offset, offset + data.length) of the snapshot's data; in
 * `SnapResp` it carries no data and `offset` is how many leading bytes the follower holds.
 */
export interface SnapshotChunk {
  readonly metadata: SnapshotMetadata;
  readonly offset: number;
  readonly totalBytes: number;
  readonly data: Uint8Array;
}

export const MessageType = {
  /** Local: start an election (the election timer fired). */
  Hup: 0,
  /** Local: the leader's heartbeat timer fired. */
  Beat: 1,
  /** A proposal; local, or forwarded from a follower to the leader. */
  Prop: 2,
  App: 3,
  AppResp: 4,
  Vote: 5,
  VoteResp: 6,
  /** One chunk of an InstallSnapshot. */
  Snap: 7,
  /** A follower's acknowledgement of snapshot chunks received so far. */
  SnapResp: 8,
  Heartbeat: 9,
  HeartbeatResp: 10,
  /** Local: the transport could not deliver to `from`. */
  Unreachable: 11,
  /** Local: the leader's check-quorum timer fired. */
  CheckQuorum: 12,
  /** Ask the leader to hand leadership to `from` (local, or forwarded to the leader). */
  TransferLeader: 13,
  /** The leader tells the transfer target to campaign at once (thesis §3.10). */
  TimeoutNow: 14,
  /** Ask for a read index; local, or forwarded from a follower to the leader (thesis §6.4). */
  ReadIndex: 15,
  ReadIndexResp: 16,
  PreVote: 17,
  PreVoteResp: 18,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const messageTypeNames: readonly string[] = Object.keys(MessageType);
export function messageTypeName(type: MessageType): string {
  return messageTypeNames[type] ?? `Unknown(${type})`;
}

/**
 * One message between cores. Every field is always present (fields that do not apply to a
 * type hold 0, false, [], or null), so every message has the same shape.
 */
export interface Message {
  readonly type: MessageType;
  readonly to: NodeId;
  readonly from: NodeId;
  /** The sender's term; 0 for local messages and for proposals and read-index requests. */
  readonly term: number;
  /** App: term of the entry at `index`. Vote/PreVote: term of the candidate's last entry. AppResp reject: term of the hint. */
  readonly logTerm: number;
  /** App: index preceding `entries`. AppResp: last index matched or rejected. Vote: candidate's last index. ReadIndexResp: the read index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  /** The sender's commit index (App, Heartbeat). */
  readonly commit: number;
  readonly snapshot: SnapshotChunk | null;
  readonly reject: boolean;
  /** AppResp reject: the follower's suggested index to probe next (fast backtracking, Raft §5.3). */
  readonly rejectHint: number;
  /** ReadIndex, ReadIndexResp, Heartbeat, HeartbeatResp: the read request's context. Vote: CAMPAIGN_TRANSFER for a transfer. */
  readonly context: Uint8Array | null;
}

export type StateRole = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state worth telling the caller about; never needs to be persisted. */
export interface SoftState {
  readonly leader: NodeId;
  readonly role: StateRole;
}

/** A linearizable read may be served once the state machine has applied `index` (thesis §6.4). */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

/**
 * Everything the caller must do, returned by `ready()`. The contract, in order:
 *
 * 1. `messages` may be sent at once, even before anything below is durable: they are
 *    requests (appends, votes, heartbeats) whose safety does not rest on this node's disk
 *    (thesis §10.2.1: the leader may write its log in parallel with replicating it).
 * 2. Persist `snapshot`, then `entries` (truncating any stored suffix they conflict with),
 *    then `hardState`, all in one durable write; fsync it when `mustSync` is true.
 * 3. Only then send `messagesAfterPersist`: vote grants and append acknowledgements, which
 *    promise that the state they answer for survives a crash (Raft §5.1, thesis §3.8).
 * 4. Restore the state machine from `snapshot` if there is one, then apply
 *    `committedEntries` in order, recording the applied index with the applied state.
 * 5. Call `advance()`. `ready()` may not be called again before that; `step()`, `tick()`
 *    and `propose()` may.
 */
export interface Ready {
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  readonly readStates: readonly ReadState[];
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  /** True when term, vote or entries changed: the write must reach the disk before step 3. */
  readonly mustSync: boolean;
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);
export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: NONE, commit: 0 });

/** The `context` of a Vote sent because of TimeoutNow: voters grant it even within a leader's lease. */
export const CAMPAIGN_TRANSFER: Uint8Array = new Uint8Array([
  0x43, 0x61, 0x6d, 0x70, 0x61, 0x69, 0x67, 0x6e, 0x54, 0x72, 0x61, 0x6e, 0x73, 0x66, 0x65, 0x72,
]);

/** Extra bytes counted per entry on top of its data when sizing messages. */
export const ENTRY_OVERHEAD_BYTES = 16;

export function entryBytes(entry: Entry): number {
  return entry.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

export function isLocalMessage(type: MessageType): boolean {
  return (
    type === MessageType.Hup ||
    type === MessageType.Beat ||
    type === MessageType.Unreachable ||
    type === MessageType.CheckQuorum
  );
}

export function isResponseMessage(type: MessageType): boolean {
  return (
    type === MessageType.AppResp ||
    type === MessageType.VoteResp ||
    type === MessageType.HeartbeatResp ||
    type === MessageType.SnapResp ||
    type === MessageType.Unreachable ||
    type === MessageType.PreVoteResp
  );
}

export function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Shared by every message without entries; never mutated. */
export const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

/**
 * A message with every field at its zero value, overridden by `fields` (and `from` and `term`,
 * when given). Written out field by field, with no object spread: messages are built on the hot
 * path, once per proposal.
 */
export function makeMessage(
  fields: Partial<Message> & Pick<Message, 'type'>,
  from: NodeId = fields.from ?? NONE,
  term: number = fields.term ?? 0,
): Message {
  return {
    type: fields.type,
    to: fields.to ?? NONE,
    from,
    term,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? NO_ENTRIES,
    commit: fields.commit ?? 0,
    snapshot: fields.snapshot ?? null,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
    context: fields.context ?? null,
  };
}
