// @raftplane/storage: Raft's durable state (log, hard state, snapshots) in LevelDB, with group commit.

export { RaftStorage, type PersistUpdate, type RaftStorageOptions, type StorageStats } from './raft-storage.js';
export { StorageError, StorageErrorCode, isStorageError, type StorageErrorDetails } from './errors.js';
export {
  ENTRY_DATA_BYTES_MAX,
  LOG_SUBLEVEL,
  META_SUBLEVEL,
  SNAPSHOT_CHUNK_BYTES_MAX,
  SNAPSHOT_DATA_BYTES_MAX,
} from './codec.js';
export { writeBatch, type BatchSublevel, type BatchWrite } from './batch-writer.js';
