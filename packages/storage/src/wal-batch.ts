// A Raft batch's LevelDB operations as a journal payload (wal.ts), so that open() can copy a
// journaled batch into LevelDB exactly as it would have been written. Layout (little-endian):
// u32 operation count, then per operation u8 tag (which sublevel, put or delete), u32 key bytes,
// the key, and for a put u32 value bytes and the value. Meta keys are UTF-8 strings; log keys bytes.

import type { BatchSublevel, BatchWrite } from './batch-writer.js';
import { RecordProblem } from './codec.js';

const Tag = { PutLog: 0, DelLog: 1, PutMeta: 2, DelMeta: 3 } as const;

export interface WalBatchSublevels {
  readonly log: BatchSublevel;
  readonly meta: BatchSublevel;
}

export function encodeWalBatch(ops: readonly BatchWrite[], sublevels: WalBatchSublevels): Uint8Array {
  const keys: Uint8Array[] = new Array(ops.length);
  let bytes = 4;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as BatchWrite;
    if (op.sublevel !== sublevels.log && op.sublevel !== sublevels.meta) throw new Error('encodeWalBatch: an operation on a sublevel other than raft-log and raft-meta');
    const key = typeof op.key === 'string' ? Buffer.from(op.key, 'utf8') : op.key;
    keys[i] = key;
    bytes += 1 + 4 + key.byteLength + (op.type === 'put' ? 4 + op.value.byteLength : 0);
  }
  const out = Buffer.allocUnsafe(bytes);
  let at = out.writeUInt32LE(ops.length, 0);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as BatchWrite;
    const key = keys[i] as Uint8Array;
    const meta = op.sublevel === sublevels.meta;
    at = out.writeUInt8(op.type === 'put' ? (meta ? Tag.PutMeta : Tag.PutLog) : meta ? Tag.DelMeta : Tag.DelLog, at);
    at = out.writeUInt32LE(key.byteLength, at);
    out.set(key, at);
    at += key.byteLength;
    if (op.type === 'put') {
      at = out.writeUInt32LE(op.value.byteLength, at);
      out.set(op.value, at);
      at += op.value.byteLength;
    }
  }
  if (at !== bytes) throw new Error(`encodeWalBatch: wrote ${at} bytes, planned ${bytes}`);
  return out;
}

/** Decodes a payload of encodeWalBatch; throws RecordProblem naming what is wrong. */
export function decodeWalBatch(payload: Uint8Array, sublevels: WalBatchSublevels): BatchWrite[] {
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const need = (at: number, n: number, what: string): void => {
    if (at + n > view.byteLength) throw new RecordProblem(`${what} at byte ${at} runs past the payload's ${view.byteLength} bytes`);
  };
  need(0, 4, 'operation count');
  const count = view.readUInt32LE(0);
  let at = 4;
  const ops: BatchWrite[] = [];
  for (let i = 0; i < count; i++) {
    need(at, 5, `operation ${i}`);
    const tag = view.readUInt8(at);
    const keyBytes = view.readUInt32LE(at + 1);
    at += 5;
    need(at, keyBytes, `operation ${i}'s key`);
    const keyView = view.subarray(at, at + keyBytes);
    at += keyBytes;
    if (tag > Tag.DelMeta) throw new RecordProblem(`operation ${i} has tag ${tag}, not 0-3`);
    const meta = tag === Tag.PutMeta || tag === Tag.DelMeta;
    const sublevel = meta ? sublevels.meta : sublevels.log;
    const key = meta ? keyView.toString('utf8') : Uint8Array.prototype.slice.call(keyView);
    if (tag === Tag.PutLog || tag === Tag.PutMeta) {
      need(at, 4, `operation ${i}'s value length`);
      const valueBytes = view.readUInt32LE(at);
      at += 4;
      need(at, valueBytes, `operation ${i}'s value`);
      ops.push({ type: 'put', sublevel, key, value: Uint8Array.prototype.slice.call(view, at, at + valueBytes) });
      at += valueBytes;
    } else {
      ops.push({ type: 'del', sublevel, key });
    }
  }
  if (at !== view.byteLength) throw new RecordProblem(`${view.byteLength - at} bytes after the ${count} operations`);
  return ops;
}
