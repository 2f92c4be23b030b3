// @raftplane/kv: the replicated MVCC key-value store, its watch hub and leases.

export * from './types.js';
export { GrpcCode, KvError, KvErrorCatalogue, isKvError, type KvErrorCode } from './errors.js';
