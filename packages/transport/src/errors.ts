// The catalogue of failures the transport reports, each with a stable code (house rule 7).
// These are conditions of the world (a bad option, a peer that cannot prove membership, a
// malformed frame, a dead connection); bugs fail an `assert` instead, which nobody catches.

export const TransportErrorCode = {
  /** An option given to `Transport.start` is missing, of the wrong type or out of range; `option` names it. */
  InvalidOption: 'TRANSPORT_INVALID_OPTION',
  /** The server could not listen on `self.host:self.port` (in use, not an address of this host). */
  ListenFailed: 'TRANSPORT_LISTEN_FAILED',
  /** A frame's length header is above the frame limit in force (`frameBytesMax`, or the handshake's). */
  FrameTooLarge: 'TRANSPORT_FRAME_TOO_LARGE',
  /** A frame is empty, is not MessagePack, or is not an array starting with a known frame kind. */
  MalformedFrame: 'TRANSPORT_MALFORMED_FRAME',
  /** A message in a frame has a field of the wrong type or out of range. */
  MalformedMessage: 'TRANSPORT_MALFORMED_MESSAGE',
  /** A message's type is unknown, or local to a core (Hup, Beat, ...) and never sent between peers. */
  UnknownMessageType: 'TRANSPORT_UNKNOWN_MESSAGE_TYPE',
  /** A message names a sender other than the authenticated peer, or a receiver other than this node. */
  MisaddressedMessage: 'TRANSPORT_MISADDRESSED_MESSAGE',
  /** An outgoing message cannot fit in a frame of `frameBytesMax`; it is dropped. */
  MessageTooLarge: 'TRANSPORT_MESSAGE_TOO_LARGE',
  /** A handshake frame is malformed or out of order. */
  HandshakeMalformed: 'TRANSPORT_HANDSHAKE_MALFORMED',
  /** The handshake did not finish within `idleTimeoutMs`. */
  HandshakeTimeout: 'TRANSPORT_HANDSHAKE_TIMEOUT',
  /** The two sides speak different wire versions. */
  VersionMismatch: 'TRANSPORT_VERSION_MISMATCH',
  /** The peer belongs to another cluster (its cluster name differs). */
  WrongCluster: 'TRANSPORT_WRONG_CLUSTER',
  /** The peer's proof does not verify: it holds another shared secret. */
  WrongSecret: 'TRANSPORT_WRONG_SECRET',
  /** The peer claims an id that is not a member of the cluster. */
  UnknownPeer: 'TRANSPORT_UNKNOWN_PEER',
  /** The peer claims a member's id it cannot hold here (it dialled the wrong node, or dialled against the lower-dials-higher rule). */
  WrongPeer: 'TRANSPORT_WRONG_PEER',
  /** The peer refused our connection and said why (`remoteCode`). */
  Refused: 'TRANSPORT_REFUSED',
  /** Nothing was heard from the peer for `idleTimeoutMs`, not even a pong. */
  IdleTimeout: 'TRANSPORT_IDLE_TIMEOUT',
  /** The socket failed or was closed by the other side. */
  ConnectionLost: 'TRANSPORT_CONNECTION_LOST',
} as const;
export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

export interface TransportErrorDetails {
  /** The peer the error concerns, when known. */
  readonly peer?: number;
  /** `host:port` of the other end of the connection. */
  readonly address?: string;
  /** The option at fault (InvalidOption). */
  readonly option?: string;
  /** The code the peer sent with its refusal (Refused). */
  readonly remoteCode?: string;
}

export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: TransportErrorCode;
  readonly details: TransportErrorDetails;

  constructor(code: TransportErrorCode, message: string, details: TransportErrorDetails = {}, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export function isTransportError(error: unknown, code?: TransportErrorCode): error is TransportError {
  return error instanceof TransportError && (code === undefined || error.code === code);
}

const codes: ReadonlySet<string> = new Set(Object.values(TransportErrorCode));

/** Whether `code` (as received from a peer) is one of ours; unknown codes are shown but not trusted. */
export function isTransportErrorCode(code: unknown): code is TransportErrorCode {
  return typeof code === 'string' && codes.has(code);
}
