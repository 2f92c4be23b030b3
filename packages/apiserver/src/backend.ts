// What the apiserver asks of the replicated KV store. A master implements it with its own store
// (linearizable reads through ReadIndex, writes proposed through Raft); tests implement it over a
// KvStore in memory. Failures are thrown as KvError, which kv-errors.ts turns into Status errors.

import type { RangeRequest, RangeResponse, TxnRequest, TxnResponse, WatchCreateRequest, WatchHandle, WatchSink } from '@raftplane/kv';

export interface ApiBackend {
  /** Linearizable unless `serializable`. */
  range(request: RangeRequest): Promise<RangeResponse>;
  /** Proposed and applied; resolves with the applied result. */
  txn(request: TxnRequest): Promise<TxnResponse>;
  /** A watch on this master's hub: its `created` response first, then events in revision order. */
  watch(request: WatchCreateRequest, sink: WatchSink): WatchHandle;
  /** This master's compacted revision: reads and watches must start after it. */
  compactedRevision(): number;
}

const empty = new Uint8Array(0);

/** A RangeRequest with etcd's defaults for everything not given. */
export function rangeRequest(fields: Partial<RangeRequest> & Pick<RangeRequest, 'key'>): RangeRequest {
  return {
    rangeEnd: empty,
    limit: 0,
    revision: 0,
    sortOrder: 'NONE',
    sortTarget: 'KEY',
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0,
    maxModRevision: 0,
    minCreateRevision: 0,
    maxCreateRevision: 0,
    ...fields,
  };
}
