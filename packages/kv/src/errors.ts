// The KV store's failures, each with a stable code, the gRPC status code etcd uses for it, and
// etcd's own message, so that the JSON gateway answers exactly as etcd's does.

import type { KvErrorShape } from './types.js';

/** gRPC status codes (google.rpc.Code) that etcd's gateway puts in `code`. */
export const GrpcCode = {
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  FailedPrecondition: 9,
  OutOfRange: 11,
  Unavailable: 14,
  ResourceExhausted: 8,
  DataLoss: 15,
} as const;

interface Catalogued {
  readonly grpc: number;
  /** etcd's message (api/v3rpc/rpctypes), used verbatim where etcd has one. */
  readonly message: string;
}

export const KvErrorCatalogue = {
  KV_COMPACTED: { grpc: GrpcCode.OutOfRange, message: 'etcdserver: mvcc: required revision has been compacted' },
  KV_FUTURE_REVISION: { grpc: GrpcCode.OutOfRange, message: 'etcdserver: mvcc: required revision is a future revision' },
  KV_EMPTY_KEY: { grpc: GrpcCode.InvalidArgument, message: 'etcdserver: key is not provided' },
  KV_KEY_NOT_FOUND: { grpc: GrpcCode.InvalidArgument, message: 'etcdserver: key not found' },
  KV_VALUE_PROVIDED: { grpc: GrpcCode.InvalidArgument, message: 'etcdserver: value is provided' },
  KV_LEASE_PROVIDED: { grpc: GrpcCode.InvalidArgument, message: 'etcdserver: lease is provided' },
  KV_TOO_MANY_OPS: { grpc: GrpcCode.InvalidArgument, message: 'etcdserver: too many operations in txn request' },
  KV_DUPLICATE_KEY: { grpc: GrpcCode.InvalidArgument, message: 'etcdserver: duplicate key given in txn request' },
  KV_REQUEST_TOO_LARGE: { grpc: GrpcCode.InvalidArgument, message: 'etcdserver: request is too large' },
  KV_INVALID_ARGUMENT: { grpc: GrpcCode.InvalidArgument, message: 'etcdserver: invalid argument' },
  KV_LEASE_NOT_FOUND: { grpc: GrpcCode.NotFound, message: 'etcdserver: requested lease not found' },
  KV_LEASE_EXISTS: { grpc: GrpcCode.FailedPrecondition, message: 'etcdserver: lease already exists' },
  KV_LEASE_TTL_TOO_LARGE: { grpc: GrpcCode.OutOfRange, message: 'etcdserver: too large lease TTL' },
  KV_SESSION_SUPERSEDED: {
    grpc: GrpcCode.FailedPrecondition,
    message: 'raftplane: this write was retried after a later write of the same client; its result is no longer kept',
  },
  KV_NO_LEADER: { grpc: GrpcCode.Unavailable, message: 'etcdserver: no leader' },
  KV_NOT_LEADER: { grpc: GrpcCode.Unavailable, message: 'etcdserver: not leader' },
  KV_LEADER_CHANGED: { grpc: GrpcCode.Unavailable, message: 'etcdserver: leader changed' },
  KV_TIMEOUT: { grpc: GrpcCode.Unavailable, message: 'etcdserver: request timed out' },
  KV_TOO_MANY_REQUESTS: { grpc: GrpcCode.ResourceExhausted, message: 'etcdserver: too many requests' },
  KV_STOPPING: { grpc: GrpcCode.Unavailable, message: 'etcdserver: server stopped' },
  /** The store's records on disk or in a snapshot fail their checks (open, restore): the master stops. */
  KV_CORRUPT: { grpc: GrpcCode.DataLoss, message: 'etcdserver: corrupt cluster' },
} as const satisfies Record<string, Catalogued>;

export type KvErrorCode = keyof typeof KvErrorCatalogue;

export class KvError extends Error {
  override readonly name = 'KvError';
  readonly code: KvErrorCode;
  /** The gRPC status code etcd's gateway would answer with. */
  readonly grpcCode: number;
  readonly details: Readonly<Record<string, unknown>>;

  /** `message` defaults to etcd's; pass one to add context (it should still start with etcd's). */
  constructor(code: KvErrorCode, message?: string, details: Readonly<Record<string, unknown>> = {}) {
    super(message ?? KvErrorCatalogue[code].message);
    this.code = code;
    this.grpcCode = KvErrorCatalogue[code].grpc;
    this.details = details;
  }

  toShape(): KvErrorShape {
    return { code: this.code, message: this.message };
  }

  static fromShape(shape: KvErrorShape): KvError {
    const code = (shape.code in KvErrorCatalogue ? shape.code : 'KV_INVALID_ARGUMENT') as KvErrorCode;
    return new KvError(code, shape.message);
  }
}

export function isKvError(error: unknown, code?: KvErrorCode): error is KvError {
  return error instanceof KvError && (code === undefined || error.code === code);
}
