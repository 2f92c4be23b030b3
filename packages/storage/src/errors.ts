// The catalogue of failures the storage reports, each with a stable code (house rule 7). These
// are conditions of the world — a damaged data directory, a failing disk, a caller too late —
// while bugs fail an `assert` from node:assert/strict instead, which nobody catches.

export const StorageErrorCode = {
  /**
   * A record is missing, fails its checksum, cannot be decoded, or contradicts another record
   * (issue 3: "a corrupt or missing record is detected at start"). open() refuses the directory;
   * the message names the directory, the record and what is wrong. Nothing is repaired.
   */
  Corrupt: 'STORAGE_CORRUPT',
  /** LevelDB failed to read the directory at open for a reason other than corruption. */
  ReadFailed: 'STORAGE_READ_FAILED',
  /**
   * LevelDB failed a write. What reached the disk is unknown, so every later write is refused
   * with this code too: the process must restart and re-open (and re-verify) the directory.
   */
  WriteFailed: 'STORAGE_WRITE_FAILED',
  /** createSnapshot() at an index not past the snapshot already held (a newer one won the race). */
  SnapshotOutOfDate: 'STORAGE_SNAPSHOT_OUT_OF_DATE',
  /** Snapshot data larger than SNAPSHOT_DATA_BYTES_MAX. */
  SnapshotTooLarge: 'STORAGE_SNAPSHOT_TOO_LARGE',
  /** A write after close(). */
  Closed: 'STORAGE_CLOSED',
  /** An option given to open() is missing, unknown or out of range; `option` names it. */
  InvalidOption: 'STORAGE_INVALID_OPTION',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

export interface StorageErrorDetails {
  /** The Raft log index the error is about, when there is one. */
  readonly index?: number;
  /** The record that is wrong, as named in the message (`raft log entry 1042`, `hard state record`). */
  readonly record?: string;
  /** The option that is wrong (InvalidOption). */
  readonly option?: string;
  /** The LevelDB error beneath (ReadFailed, WriteFailed, and Corrupt when LevelDB itself found it). */
  readonly cause?: unknown;
}

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  /** The data directory the error is about: an operator must know which one is broken. */
  readonly dataDir: string;
  readonly index: number | undefined;
  readonly record: string | undefined;
  readonly option: string | undefined;

  /** The message is `data directory <dataDir>: <what>`. */
  constructor(code: StorageErrorCode, dataDir: string, what: string, details: StorageErrorDetails = {}) {
    super(`data directory ${dataDir}: ${what}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.dataDir = dataDir;
    this.index = details.index;
    this.record = details.record;
    this.option = details.option;
  }
}

export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  return error instanceof StorageError && (code === undefined || error.code === code);
}
