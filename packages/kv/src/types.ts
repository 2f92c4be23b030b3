// The KV store's requests, responses and events, in the shapes of etcd's v3 API (etcdserverpb,
// mvccpb) but in internal form: numbers instead of 64-bit strings, bytes as Uint8Array. The etcd
// JSON gateway translates between these and etcd's JSON; the Raft log carries `KvCommand`s.

/**
 * A lease id: etcd's int64 (clients may choose any positive one, and etcd's own are random 63-bit
 * numbers), so a bigint; 0n means "no lease". Revisions and counts stay numbers: they never pass 2^53.
 */
export type LeaseId = bigint;

/** A key's current (or historical) state. Revisions are main revisions of the store. */
export interface KeyValue {
  readonly key: Uint8Array;
  /** Revision of the last creation of the key (a put after a delete creates it anew). */
  readonly createRevision: number;
  /** Revision of the last modification. */
  readonly modRevision: number;
  /** Number of modifications since the last creation (1 after a create). */
  readonly version: number;
  readonly value: Uint8Array;
  /** The lease the key is attached to, or 0n. Lease ids are etcd's int64s, hence bigint. */
  readonly lease: LeaseId;
}

/** Every response carries the store revision it reflects. The master adds member, cluster and term. */
export interface ResponseHeader {
  readonly revision: number;
}

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND';
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';

/**
 * `rangeEnd` as in etcd: empty means the single key `key`; a single zero byte with an empty
 * `key` means every key; `[0]` means every key >= `key`; otherwise keys in [key, rangeEnd).
 */
export interface RangeRequest {
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  /** 0: no limit. */
  readonly limit: number;
  /** 0: the current revision. Otherwise a revision not yet compacted and not in the future. */
  readonly revision: number;
  readonly sortOrder: SortOrder;
  readonly sortTarget: SortTarget;
  /** Read the local store without confirming leadership (may be stale). */
  readonly serializable: boolean;
  readonly keysOnly: boolean;
  readonly countOnly: boolean;
  /** 0: no bound. Filters on the key's mod and create revisions. */
  readonly minModRevision: number;
  readonly maxModRevision: number;
  readonly minCreateRevision: number;
  readonly maxCreateRevision: number;
}

export interface RangeResponse {
  readonly header: ResponseHeader;
  readonly kvs: readonly KeyValue[];
  /** More keys matched than `limit` returned. */
  readonly more: boolean;
  /** How many keys matched in all. */
  readonly count: number;
}

export interface PutRequest {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly lease: LeaseId;
  readonly prevKv: boolean;
  /** Keep the current value (the key must exist). */
  readonly ignoreValue: boolean;
  /** Keep the current lease (the key must exist). */
  readonly ignoreLease: boolean;
}

export interface PutResponse {
  readonly header: ResponseHeader;
  readonly prevKv: KeyValue | null;
}

export interface DeleteRangeRequest {
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  readonly prevKv: boolean;
}

export interface DeleteRangeResponse {
  readonly header: ResponseHeader;
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';

/** One condition of a txn, over one key or (with rangeEnd) every key of a range. */
export interface Compare {
  readonly result: CompareResult;
  readonly target: CompareTarget;
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  /** The operand for `target`: a number for VERSION/CREATE/MOD, a lease id for LEASE, bytes for VALUE. */
  readonly operand: number | LeaseId | Uint8Array;
}

export type RequestOp =
  | { readonly range: RangeRequest }
  | { readonly put: PutRequest }
  | { readonly deleteRange: DeleteRangeRequest }
  | { readonly txn: TxnRequest };

export type ResponseOp =
  | { readonly range: RangeResponse }
  | { readonly put: PutResponse }
  | { readonly deleteRange: DeleteRangeResponse }
  | { readonly txn: TxnResponse };

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

export interface TxnResponse {
  readonly header: ResponseHeader;
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
}

export interface CompactionRequest {
  readonly revision: number;
  /** Wait until the compaction is physically done before answering. */
  readonly physical: boolean;
}

export interface CompactionResponse {
  readonly header: ResponseHeader;
}

export interface LeaseGrantRequest {
  /** Seconds. */
  readonly ttl: number;
  /** 0n: the server chooses (the leader, before proposing: rule 3). */
  readonly id: LeaseId;
}

export interface LeaseGrantResponse {
  readonly header: ResponseHeader;
  readonly id: LeaseId;
  readonly ttl: number;
}

export interface LeaseRevokeRequest {
  readonly id: LeaseId;
}

export interface LeaseRevokeResponse {
  readonly header: ResponseHeader;
}

export interface LeaseKeepAliveRequest {
  readonly id: LeaseId;
}

export interface LeaseKeepAliveResponse {
  readonly header: ResponseHeader;
  readonly id: LeaseId;
  /** Seconds left after this renewal. */
  readonly ttl: number;
}

export interface LeaseTimeToLiveRequest {
  readonly id: LeaseId;
  readonly keys: boolean;
}

export interface LeaseTimeToLiveResponse {
  readonly header: ResponseHeader;
  readonly id: LeaseId;
  /** Seconds left; -1 when the lease does not exist (etcd's answer). */
  readonly ttl: number;
  readonly grantedTtl: number;
  readonly keys: readonly Uint8Array[];
}

export interface LeaseLeasesResponse {
  readonly header: ResponseHeader;
  readonly leases: readonly { readonly id: LeaseId }[];
}

export type EventType = 'PUT' | 'DELETE';

export interface Event {
  readonly type: EventType;
  /** For DELETE: the key with modRevision = the delete's revision and no value (etcd's tombstone). */
  readonly kv: KeyValue;
  /** Only when the watcher asked for it. */
  readonly prevKv: KeyValue | null;
}

export type WatchFilter = 'NOPUT' | 'NODELETE';

export interface WatchCreateRequest {
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  /** 0: from the next revision. Otherwise every event at or after it (history, then live). */
  readonly startRevision: number;
  /** Send an empty response with the current revision when idle for a while (etcd: 10 minutes; ours is a setting). */
  readonly progressNotify: boolean;
  readonly filters: readonly WatchFilter[];
  readonly prevKv: boolean;
  /** 0: the hub assigns one. */
  readonly watchId: number;
}

export interface WatchResponse {
  readonly header: ResponseHeader;
  readonly watchId: number;
  readonly created: boolean;
  readonly canceled: boolean;
  /** Set when the start revision was compacted (the watch is canceled). */
  readonly compactRevision: number;
  readonly cancelReason: string;
  /** All events of one revision are in one response (atomic); a response may hold several revisions. */
  readonly events: readonly Event[];
}

/** Who sent a write, for exactly-once application under retries (Raft dissertation §6.3). */
export interface ClientSession {
  /** Unique per client process. */
  readonly clientId: string;
  /** Rises by one per new write of that client; a retry repeats the number. */
  readonly sequence: number;
}

/** A write as it travels through the Raft log. Everything apply needs is inside it (rule 3). */
export type KvOperation =
  | { readonly put: PutRequest }
  | { readonly deleteRange: DeleteRangeRequest }
  | { readonly txn: TxnRequest }
  | { readonly compaction: CompactionRequest }
  | { readonly leaseGrant: { readonly id: LeaseId; readonly ttl: number } }
  | { readonly leaseRevoke: LeaseRevokeRequest };

export interface KvCommand {
  readonly operation: KvOperation;
  /** Absent for writes that need no deduplication (the leader's own lease revokes, compactions). */
  readonly session: ClientSession | null;
  /** The proposing leader's wall clock (ms since the epoch): apply uses it to age sessions out, never its own clock. */
  readonly proposedAtMs: number;
}

/** What applying one command produced: the response, or an error that changed nothing. */
export type KvResult =
  | { readonly ok: true; readonly response: PutResponse | DeleteRangeResponse | TxnResponse | CompactionResponse | LeaseGrantResponse | LeaseRevokeResponse }
  | { readonly ok: false; readonly error: KvErrorShape };

/** A failure as a value (it travels in results); `KvError` is its thrown form. */
export interface KvErrorShape {
  readonly code: string;
  readonly message: string;
}

/** The events of one applied revision. Every event carries `prevKv` (null when the key was new). */
export interface RevisionEvents {
  readonly revision: number;
  readonly events: readonly Event[];
}

/** What the watch hub reads of the store: its position, and its history for watchers behind. */
export interface HistorySource {
  currentRevision(): number;
  compactedRevision(): number;
  /**
   * Events of revisions in [from, to] (to <= currentRevision()), oldest first, at most
   * `revisionsMax` revisions (the hub pages through long histories). Throws KvError KV_COMPACTED
   * when `from` <= compactedRevision().
   */
  history(from: number, to: number, revisionsMax: number): Promise<readonly RevisionEvents[]>;
  /**
   * Calls `listener` after each apply batch is written, once per write revision, in order, with
   * that revision's events. Returns the function that unsubscribes.
   */
  subscribe(listener: (revision: RevisionEvents) => void): () => void;
}
