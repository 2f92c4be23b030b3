// A non-2xx answer becomes the server's StatusError (STYLE §2: the client rebuilds the same error
// from the body, so callers test the reason, never the message). An answer that is not a Status
// (a proxy's page, an empty body) gets the reason its code implies, as client-go's
// NewGenericServerResponse does.

import { statusErrorFromBody, type Status, type StatusError, type StatusReason } from '@raftplane/api';
import type { TransportResponse } from './transport.js';
import { retryAfterMs } from './http-wire.js';

const reasonByCode: Readonly<Record<number, StatusReason>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function isStatusBody(body: unknown): body is Status {
  return typeof body === 'object' && body !== null && (body as { kind?: unknown }).kind === 'Status';
}

/** What the request was, for messages of errors that the server's body did not explain. */
export interface RequestContext {
  readonly method: string;
  readonly path: string;
}

/** The StatusError a non-2xx answer stands for. */
export function statusErrorFromResponse(response: TransportResponse, request: RequestContext): StatusError {
  const body = response.body;
  if (isStatusBody(body)) {
    // A Status always carries its code; trust the HTTP status where the body forgot it.
    const status: Status = typeof body.code === 'number' ? body : { ...body, code: response.status };
    return statusErrorFromBody(status);
  }
  const reason = reasonByCode[response.status] ?? 'InternalError';
  const excerpt = typeof body === 'string' ? body.trim().slice(0, 200) : '';
  const message = `the server answered ${request.method} ${request.path} with HTTP ${response.status}${excerpt === '' ? '' : `: ${excerpt}`}`;
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code: response.status };
  const waitMs = retryAfterMs(response);
  if (waitMs !== undefined) status.details = { retryAfterSeconds: Math.ceil(waitMs / 1000) };
  return statusErrorFromBody(status);
}
