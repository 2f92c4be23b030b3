// @raftplane/transport: Raft messages between master processes, on authenticated, persistent,
// batched and bounded TCP connections.

export { Transport } from './transport.js';
export { validateTransportOptions, type PeerAddress, type TransportLogger, type TransportOptions } from './options.js';
export type { PeerStatus } from './peer.js';
export { TransportError, TransportErrorCode, isTransportError, type TransportErrorDetails } from './errors.js';
// The wire format, for tools that read peer traffic (a fault-injecting proxy, a packet dump).
export { FrameDecoder, DecoderState, type FrameHandler } from './frame-decoder.js';
export { decodeMessages, encodeMessagesFrame, messageBytesBound, messageToTuple, tupleToMessage } from './codec.js';
export { FRAME_HEADER_BYTES, FrameKind, WIRE_VERSION, decodeFrameBody, encodeFrame, frameKindName, type FrameBody } from './wire.js';
