// What the etcd v3 JSON gateway asks of a master: the KV operations in internal form. The master
// implements it (proposing writes, confirming linearizable reads with ReadIndex); the gateway only
// translates HTTP and JSON. Failures are thrown as KvError (with etcd's code and message).

import type {
  ClientSession,
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
  WatchCreateRequest,
  WatchHandle,
  WatchSink,
} from '@raftplane/kv';

/**
 * Where a watch's responses go, and the handle of a watch: the watch hub's own contract (kv's
 * watch-hub.ts). `send` returning false means "not now": the hub keeps the response, retries, and
 * cancels the watch with a reason once its queue bound is reached; a canceled response is a
 * watch's last and the sink always delivers it.
 */
export type { WatchHandle, WatchSink } from '@raftplane/kv';

/** etcd's response header, as the gateway must send it on every response. */
export interface EtcdHeader {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  readonly revision: number;
  readonly raftTerm: number;
}

export interface MaintenanceStatus {
  readonly version: string;
  readonly dbSize: number;
  readonly leader: bigint;
  readonly raftIndex: number;
  readonly raftTerm: number;
  readonly raftAppliedIndex: number;
  readonly errors: readonly string[];
  readonly dbSizeInUse: number;
  readonly isLearner: boolean;
}

export interface Member {
  readonly id: bigint;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

/**
 * Thrown (as a KvError with code KV_NOT_LEADER and `details.leader`) by writes on a follower: the
 * gateway then forwards the HTTP request to the leader's API unchanged.
 */
export interface KvService {
  /** Linearizable (ReadIndex) unless `serializable`. */
  range(request: RangeRequest): Promise<RangeResponse>;
  put(request: PutRequest, session: ClientSession | null): Promise<PutResponse>;
  deleteRange(request: DeleteRangeRequest, session: ClientSession | null): Promise<DeleteRangeResponse>;
  txn(request: TxnRequest, session: ClientSession | null): Promise<TxnResponse>;
  compact(request: CompactionRequest): Promise<CompactionResponse>;
  leaseGrant(request: LeaseGrantRequest): Promise<LeaseGrantResponse>;
  leaseRevoke(request: LeaseRevokeRequest): Promise<LeaseRevokeResponse>;
  leaseKeepAlive(request: LeaseKeepAliveRequest): Promise<LeaseKeepAliveResponse>;
  leaseTimeToLive(request: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse>;
  leaseLeases(): Promise<LeaseLeasesResponse>;
  /** Starts a watch; its responses (the `created` one first) go to `sink`, on this master. */
  watch(request: WatchCreateRequest, sink: WatchSink): WatchHandle;
  status(): MaintenanceStatus;
  members(): readonly Member[];
  /** The header for a response reflecting `revision`. */
  header(revision: number): EtcdHeader;
  /** The API address of the leader, to forward a request to; null when none is known. */
  leaderApi(): { readonly id: number; readonly host: string; readonly port: number } | null;
  readonly memberId: number;
}
