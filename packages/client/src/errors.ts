// The catalogue of failures the client reports itself, each with a stable code (house rule 7).
// Answers from the server are never these: a non-2xx answer becomes the server's `StatusError`
// (from @raftplane/api), so callers branch on `reason`. These codes are for what the server never
// said: nobody answered, the answer was lost, a bad option, a stream that broke.

export const ClientErrorCode = {
  /** An option given to a constructor is missing, of the wrong type or out of range; `option` names it. */
  InvalidOption: 'CLIENT_INVALID_OPTION',
  /** A call's arguments cannot make a request: no namespace for a namespaced resource, a verb the resource does not serve. */
  InvalidArgument: 'CLIENT_INVALID_ARGUMENT',
  /** No endpoint accepted a connection within the retry budget: the request provably never reached a server. */
  Unreachable: 'CLIENT_UNREACHABLE',
  /**
   * The request was sent, then the connection broke or timed out before the answer: it may or may
   * not have taken effect. Never retried blindly for a call that is not idempotent.
   */
  OutcomeUnknown: 'CLIENT_OUTCOME_UNKNOWN',
  /** The server's answer is not what the API promises (not JSON, not a Status on an error, a malformed watch event). */
  MalformedResponse: 'CLIENT_MALFORMED_RESPONSE',
  /** An answer or one watch event is larger than `responseBytesMax`. */
  ResponseTooLarge: 'CLIENT_RESPONSE_TOO_LARGE',
  /** An open watch stream failed: socket error, abnormal close, a missed pong. Resume from the last resourceVersion. */
  WatchBroken: 'CLIENT_WATCH_BROKEN',
  /** A watch consumer fell `watchEventsBufferedMax` events behind; the stream was cut rather than buffered without bound. */
  WatchOverflow: 'CLIENT_WATCH_OVERFLOW',
  /** A work queue holds `keysMax` keys already; the key was not added. */
  QueueFull: 'CLIENT_QUEUE_FULL',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** What the error concerns, as far as it is known: enough to find the request in a server log. */
export interface ClientErrorDetails {
  /** The endpoint (`http://127.0.0.1:6441`) the last attempt went to. */
  readonly endpoint?: string;
  readonly method?: string;
  readonly path?: string;
  /** The plural resource (`pods`) and object name of a typed call. */
  readonly resource?: string;
  readonly name?: string;
  readonly namespace?: string;
  /** Attempts made, counting the first. */
  readonly attempts?: number;
  /** The option at fault (InvalidOption). */
  readonly option?: string;
}

export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;
  readonly details: ClientErrorDetails;

  constructor(code: ClientErrorCode, message: string, details: ClientErrorDetails = {}, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
    this.details = details;
  }
}

export function isClientError(error: unknown, code?: ClientErrorCode): error is ClientError {
  return error instanceof ClientError && (code === undefined || error.code === code);
}

export function invalidOption(option: string, problem: string): ClientError {
  return new ClientError(ClientErrorCode.InvalidOption, `option ${option}: ${problem}`, { option });
}
