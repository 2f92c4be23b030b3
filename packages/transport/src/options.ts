// The transport's options and their validation: checked whole at start, each bad option with its
// own TRANSPORT_INVALID_OPTION error naming it, unknown options rejected by name (house rule 9).

import type { Message } from '@raftplane/raft';
import { TransportError, TransportErrorCode } from './errors.js';
import { HANDSHAKE_FRAME_BYTES_MAX } from './wire.js';

export interface PeerAddress {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

export interface TransportLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export interface TransportOptions {
  /** This master: the server listens on self.host:self.port (port 0: one the OS picks, see Transport.port). */
  readonly self: PeerAddress;
  /** The other masters. This node dials those with a higher id and accepts those with a lower one. */
  readonly peers: readonly PeerAddress[];
  /** Sent in the clear in the handshake and covered by its proofs: masters of two clusters never talk. */
  readonly clusterName: string;
  /** The cluster's shared secret (at least 16 bytes); only HMACs made with it cross the wire. */
  readonly secret: string;
  /** Bytes queued for one peer, the socket's buffer included; past it new messages are dropped and reported. At least frameBytesMax. */
  readonly queueBytesMax: number;
  /** The largest frame body accepted, and the largest sent; a larger incoming frame closes the connection. */
  readonly frameBytesMax: number;
  /** Reconnect backoff: the first retry waits about this long, each failure doubles it... */
  readonly reconnectDelayMsMin: number;
  /** ...up to this, with jitter. */
  readonly reconnectDelayMsMax: number;
  /** A connection silent this long (no traffic, no pong) is closed and redialled; also bounds the handshake. */
  readonly idleTimeoutMs: number;
  /** Injected randomness in [0, 1), for the backoff's jitter only (handshake nonces use node:crypto). */
  readonly random: () => number;
  /** Decoded messages from any peer, called synchronously from a socket callback: enqueue, do not work. */
  readonly onMessages: (messages: Message[]) => void;
  /** Messages to `peer` were dropped (not connected, queue full, too large); called at most once per peer per turn. */
  readonly onUnreachable: (peer: number) => void;
  readonly logger: TransportLogger;
  /** Aborting closes everything (sockets, timers, server), like close(). */
  readonly signal: AbortSignal;
}

/** Ports and ids are integers in these ranges; frames are at most 1 GiB (a Buffer's reach with room to spare). */
const PORT_MAX = 65_535;
const FRAME_BYTES_MAX_LIMIT = 1 << 30;
const SECRET_BYTES_MIN = 16;
const CLUSTER_NAME_BYTES_MAX = 255;
const IDLE_TIMEOUT_MS_MIN = 20;

const knownOptions: ReadonlySet<string> = new Set([
  'self',
  'peers',
  'clusterName',
  'secret',
  'queueBytesMax',
  'frameBytesMax',
  'reconnectDelayMsMin',
  'reconnectDelayMsMax',
  'idleTimeoutMs',
  'random',
  'onMessages',
  'onUnreachable',
  'logger',
  'signal',
]);

function invalid(option: string, message: string): TransportError {
  return new TransportError(TransportErrorCode.InvalidOption, `transport options: ${option} ${message}`, { option });
}

function requireInteger(value: unknown, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(option, `must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function requireFunction(value: unknown, option: string): void {
  if (typeof value !== 'function') throw invalid(option, `must be a function, got ${value === null ? 'null' : typeof value}`);
}

function validateAddress(value: unknown, option: string, portMin: number): PeerAddress {
  if (typeof value !== 'object' || value === null) throw invalid(option, 'must be an object { id, host, port }');
  const address = value as Partial<PeerAddress>;
  requireInteger(address.id, `${option}.id`, 1);
  if (typeof address.host !== 'string' || address.host.length === 0) throw invalid(`${option}.host`, `must be a non-empty string, got ${JSON.stringify(address.host)}`);
  requireInteger(address.port, `${option}.port`, portMin, PORT_MAX);
  return address as PeerAddress;
}

function validatePeers(options: TransportOptions): void {
  if (!Array.isArray(options.peers)) throw invalid('peers', 'must be an array of { id, host, port }');
  const ids = new Set<number>([options.self.id]);
  options.peers.forEach((peer: unknown, i) => {
    // A peer with a higher id is dialled, so it needs a real port; a lower one is only accepted.
    const candidate = peer as Partial<PeerAddress> | null;
    const dialled = typeof candidate?.id === 'number' && candidate.id > options.self.id;
    const address = validateAddress(peer, `peers[${i}]`, dialled ? 1 : 0);
    if (ids.has(address.id)) {
      throw invalid(`peers[${i}].id`, address.id === options.self.id ? `${address.id} is self.id` : `${address.id} appears twice`);
    }
    ids.add(address.id);
  });
}

function validateStrings(options: TransportOptions): void {
  const nameBytes = typeof options.clusterName === 'string' ? Buffer.byteLength(options.clusterName) : 0;
  if (typeof options.clusterName !== 'string' || nameBytes === 0 || nameBytes > CLUSTER_NAME_BYTES_MAX) {
    throw invalid('clusterName', `must be a string of 1 to ${CLUSTER_NAME_BYTES_MAX} bytes`);
  }
  if (typeof options.secret !== 'string' || Buffer.byteLength(options.secret) < SECRET_BYTES_MIN) {
    throw invalid('secret', `must be a string of at least ${SECRET_BYTES_MIN} bytes`);
  }
}

function validateSizesAndTimes(options: TransportOptions): void {
  requireInteger(options.frameBytesMax, 'frameBytesMax', HANDSHAKE_FRAME_BYTES_MAX, FRAME_BYTES_MAX_LIMIT);
  requireInteger(options.queueBytesMax, 'queueBytesMax', 1);
  if (options.queueBytesMax < options.frameBytesMax) {
    throw invalid('queueBytesMax', `(${options.queueBytesMax}) must be at least frameBytesMax (${options.frameBytesMax}), so that a full frame can be queued`);
  }
  requireInteger(options.reconnectDelayMsMin, 'reconnectDelayMsMin', 1);
  requireInteger(options.reconnectDelayMsMax, 'reconnectDelayMsMax', 1);
  if (options.reconnectDelayMsMax < options.reconnectDelayMsMin) {
    throw invalid('reconnectDelayMsMax', `(${options.reconnectDelayMsMax}) must be at least reconnectDelayMsMin (${options.reconnectDelayMsMin})`);
  }
  requireInteger(options.idleTimeoutMs, 'idleTimeoutMs', IDLE_TIMEOUT_MS_MIN);
}

function validateCallbacks(options: TransportOptions): void {
  requireFunction(options.random, 'random');
  requireFunction(options.onMessages, 'onMessages');
  requireFunction(options.onUnreachable, 'onUnreachable');
  const logger = options.logger as Partial<TransportLogger> | null;
  if (typeof logger !== 'object' || logger === null || typeof logger.info !== 'function' || typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    throw invalid('logger', 'must have info(), warn() and error() methods');
  }
  if (!(options.signal instanceof AbortSignal)) throw invalid('signal', 'must be an AbortSignal');
}

/** Throws a TRANSPORT_INVALID_OPTION error naming the first bad option. */
export function validateTransportOptions(options: TransportOptions): void {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object');
  for (const option of Object.keys(options)) {
    if (!knownOptions.has(option)) throw invalid(option, 'is not a known option');
  }
  validateAddress(options.self, 'self', 0);
  validatePeers(options);
  validateStrings(options);
  validateSizesAndTimes(options);
  validateCallbacks(options);
}
