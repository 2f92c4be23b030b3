// The etcd gateway's own failures (bad input it finds before the service is called) and the one
// place where any failure becomes etcd's answer: the gRPC code, grpc-gateway's HTTP status for it,
// and the body shapes etcd 3.4's gateway (grpc-gateway v1.9.5) writes.

import { isKvError } from '@raftplane/kv';

/** gRPC status codes (google.rpc.Code) the gateway answers with. */
export const Grpc = {
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;

export const EtcdGatewayErrorCatalogue = {
  /** The body (or one message of a stream) is not valid JSON or msgpack. */
  ETCD_GW_MALFORMED_BODY: { grpc: Grpc.InvalidArgument },
  /** A field has the wrong type, bad base64, an integer out of range or an unknown enum value. */
  ETCD_GW_INVALID_FIELD: { grpc: Grpc.InvalidArgument },
  /** x-raftplane-client-id / x-raftplane-sequence are malformed, or only one is given. */
  ETCD_GW_INVALID_SESSION: { grpc: Grpc.InvalidArgument },
  /** The request is past gRPC's receive limit (etcd: --max-request-bytes plus 512 KiB), or its body past the body limit. */
  ETCD_GW_MESSAGE_TOO_LARGE: { grpc: Grpc.ResourceExhausted },
  /** One keep-alive POST carries more than keepAliveRequestsMax requests. */
  ETCD_GW_TOO_MANY_REQUESTS: { grpc: Grpc.ResourceExhausted },
  /** A watch receiver let more than watchBufferBytesMax bytes pile up unsent. */
  ETCD_GW_SLOW_WATCHER: { grpc: Grpc.ResourceExhausted },
  /** The gateway is closing. */
  ETCD_GW_CLOSING: { grpc: Grpc.Unavailable },
} as const satisfies Record<string, { readonly grpc: number }>;

export type EtcdGatewayErrorCode = keyof typeof EtcdGatewayErrorCatalogue;

export class EtcdGatewayError extends Error {
  override readonly name = 'EtcdGatewayError';
  readonly code: EtcdGatewayErrorCode;
  readonly grpcCode: number;

  constructor(code: EtcdGatewayErrorCode, message: string) {
    super(message);
    this.code = code;
    this.grpcCode = EtcdGatewayErrorCatalogue[code].grpc;
  }
}

/** grpc-gateway v1's HTTPStatusFromCode (runtime/errors.go): FailedPrecondition is 400, not 412, on purpose. */
const httpStatusByGrpc: Readonly<Record<number, number>> = {
  0: 200,
  [Grpc.Canceled]: 408,
  [Grpc.Unknown]: 500,
  [Grpc.InvalidArgument]: 400,
  [Grpc.DeadlineExceeded]: 504,
  [Grpc.NotFound]: 404,
  [Grpc.AlreadyExists]: 409,
  [Grpc.PermissionDenied]: 403,
  [Grpc.ResourceExhausted]: 429,
  [Grpc.FailedPrecondition]: 400,
  [Grpc.Aborted]: 409,
  [Grpc.OutOfRange]: 400,
  [Grpc.Unimplemented]: 501,
  [Grpc.Internal]: 500,
  [Grpc.Unavailable]: 503,
  [Grpc.DataLoss]: 500,
  [Grpc.Unauthenticated]: 401,
};

/** Any other code is 500, as grpc-gateway answers an unknown one. */
export function httpStatusFromGrpc(code: number): number {
  return httpStatusByGrpc[code] ?? 500;
}

/** Go's http.StatusText for the statuses above; grpc-gateway puts it in a stream error's `http_status`. */
const statusText: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** A failure as etcd's gateway reports it. */
export interface EtcdFailure {
  readonly grpcCode: number;
  readonly httpStatus: number;
  readonly message: string;
}

/** KvError and EtcdGatewayError carry their gRPC code; anything else is a bug here or in the service: Unknown (500). */
export function toEtcdFailure(error: unknown): EtcdFailure {
  if (isKvError(error) || error instanceof EtcdGatewayError) {
    return { grpcCode: error.grpcCode, httpStatus: httpStatusFromGrpc(error.grpcCode), message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { grpcCode: Grpc.Unknown, httpStatus: 500, message };
}

/**
 * A unary error body. grpc-gateway v1.9.5 (etcd 3.4) marshals its errorBody struct in field
 * order error, message, code; details are omitted when empty. Seen verbatim from etcd 3.4.3 in
 * etcd-io/etcd#14997: {"error":"grpc: received message larger than max (…)","message":"…","code":8}.
 */
export function unaryErrorBody(failure: EtcdFailure): { error: string; message: string; code: number } {
  return { error: failure.message, message: failure.message, code: failure.grpcCode };
}

/**
 * The last chunk of a failed stream (watch, keepalive): grpc-gateway's errorChunk, a StreamError
 * marshalled with proto names (grpc_code, http_code, message, http_status; details omitted).
 */
export function streamErrorChunk(failure: EtcdFailure): { error: { grpc_code: number; http_code: number; message: string; http_status: string } } {
  return {
    error: {
      grpc_code: failure.grpcCode,
      http_code: failure.httpStatus,
      message: failure.message,
      http_status: statusText[failure.httpStatus] ?? 'Internal Server Error',
    },
  };
}
