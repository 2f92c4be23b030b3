// @raftplane/kv: the replicated MVCC key-value store, its watch hub and leases.

export * from './types.js';
export { GrpcCode, KvError, KvErrorCatalogue, isKvError, type KvErrorCode } from './errors.js';
export { WatchHub, WatchCancelReason, WATCH_ID_REFUSED, type WatchHubOptions, type WatchSink, type WatchHandle } from './watch-hub.js';
export { Lessor, grantTtlSeconds, minLeaseTtlSeconds, type LessorOptions } from './lessor.js';
export { KvStore, SNAPSHOT_FORMAT, type KvStoreOptions, type KvStoreStats, type StoreCommand } from './store.js';
export { encodeKvCommand, decodeKvCommand, KV_COMMAND_FORMAT } from './command-codec.js';
export { validateKvOperation, validateKvCommand, validateRangeRequest, validateClientSession, CLIENT_ID_LENGTH_MAX, type KvLimits } from './validate.js';
