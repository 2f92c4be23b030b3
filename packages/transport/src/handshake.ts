// The membership proof: a mutual challenge-response on every new connection, with HMAC-SHA256
// over the cluster name, both ids and both nonces, keyed by the cluster's shared secret.
//
//   dialer   -> acceptor  Hello     version, clusterName, dialerId, acceptorId, dialerNonce
//   acceptor -> dialer    Challenge acceptorNonce                 (or Refused: version, cluster, ids)
//   dialer   -> acceptor  Proof     HMAC(secret, "dialer", ...)
//   acceptor -> dialer    Welcome   HMAC(secret, "acceptor", ...) (or Refused: wrong shared secret)
//
// The dialer proves itself first, so a stranger who connects never obtains an HMAC to study; the
// role in each HMAC keeps one side's proof from being replayed as the other's, and fresh random
// nonces on both sides keep a recorded handshake from being replayed later. The secret itself
// never crosses the wire. Digests are compared in constant time.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import assert from 'node:assert/strict';
import { TransportError, TransportErrorCode, isTransportErrorCode } from './errors.js';
import { FrameKind, WIRE_VERSION, describe, encodeFrame, frameKindName, type FrameBody } from './wire.js';

export const NONCE_BYTES = 32;
export const PROOF_BYTES = 32;

export type Role = 'dialer' | 'acceptor';

/** What both proofs cover. */
export interface HandshakeTranscript {
  readonly clusterName: string;
  readonly dialerId: number;
  readonly acceptorId: number;
  readonly dialerNonce: Uint8Array;
  readonly acceptorNonce: Uint8Array;
}

export interface Hello {
  readonly version: number;
  readonly clusterName: string;
  readonly dialerId: number;
  readonly acceptorId: number;
  readonly nonce: Uint8Array;
}

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** HMAC-SHA256 keyed by `secret` over a MessagePack encoding of the role and the transcript (unambiguous: every field is delimited). */
export function proofOf(secret: string, role: Role, t: HandshakeTranscript): Buffer {
  assert.equal(t.dialerNonce.byteLength, NONCE_BYTES, 'dialer nonce length');
  assert.equal(t.acceptorNonce.byteLength, NONCE_BYTES, 'acceptor nonce length');
  const input = encodeFrame(['raftplane-transport-proof', WIRE_VERSION, role, t.clusterName, t.dialerId, t.acceptorId, t.dialerNonce, t.acceptorNonce]);
  return createHmac('sha256', secret).update(input).digest();
}

/** Whether `received` is the expected proof; constant time in the proof's content. */
export function proofMatches(expected: Buffer, received: Uint8Array): boolean {
  assert.equal(expected.byteLength, PROOF_BYTES, 'expected proof length');
  // The length is public (it is checked by parse), so only the content comparison must not leak.
  return received.byteLength === PROOF_BYTES && timingSafeEqual(expected, received);
}

export function helloFrame(hello: Hello): Buffer {
  return encodeFrame([FrameKind.Hello, hello.version, hello.clusterName, hello.dialerId, hello.acceptorId, hello.nonce]);
}

export function challengeFrame(nonce: Uint8Array): Buffer {
  return encodeFrame([FrameKind.Challenge, nonce]);
}

export function proofFrame(proof: Uint8Array): Buffer {
  return encodeFrame([FrameKind.Proof, proof]);
}

export function welcomeFrame(proof: Uint8Array): Buffer {
  return encodeFrame([FrameKind.Welcome, proof]);
}

export function refusedFrame(error: TransportError): Buffer {
  return encodeFrame([FrameKind.Refused, error.code, error.message]);
}

function malformed(message: string): TransportError {
  return new TransportError(TransportErrorCode.HandshakeMalformed, message);
}

function expectKind(body: FrameBody, kind: FrameKind, length: number): TransportError | null {
  if (body[0] !== kind) return malformed(`expected a ${frameKindName(kind)} frame, got ${frameKindName(body[0])}`);
  if (body.length !== length) return malformed(`${frameKindName(kind)} frame of ${body.length} items, expected ${length}`);
  return null;
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

export function parseHello(body: FrameBody): Hello | TransportError {
  const error = expectKind(body, FrameKind.Hello, 6);
  if (error !== null) return error;
  const [, version, clusterName, dialerId, acceptorId, nonce] = body;
  if (typeof version !== 'number' || !Number.isInteger(version)) return malformed(`Hello version is ${describe(version)}`);
  if (typeof clusterName !== 'string') return malformed(`Hello cluster name is ${describe(clusterName)}`);
  if (!isId(dialerId) || !isId(acceptorId)) return malformed(`Hello ids are ${describe(dialerId)} and ${describe(acceptorId)}`);
  if (!(nonce instanceof Uint8Array) || nonce.byteLength !== NONCE_BYTES) return malformed(`Hello nonce is ${describe(nonce)}, expected ${NONCE_BYTES} bytes`);
  return { version, clusterName, dialerId, acceptorId, nonce };
}

/** The byte string in a Challenge (nonce), Proof or Welcome (HMAC) frame: both are 32 bytes. */
export function parseBytes(body: FrameBody, kind: typeof FrameKind.Challenge | typeof FrameKind.Proof | typeof FrameKind.Welcome): Uint8Array | TransportError {
  const error = expectKind(body, kind, 2);
  if (error !== null) return error;
  const value = body[1];
  if (!(value instanceof Uint8Array) || value.byteLength !== NONCE_BYTES) {
    return malformed(`${frameKindName(kind)} holds ${describe(value)}, expected ${NONCE_BYTES} bytes`);
  }
  return value;
}

/** The refusal a peer sent, as an error with code Refused and the peer's own code in `remoteCode`. */
export function parseRefused(body: FrameBody): TransportError {
  const [, code, text] = body;
  const remoteCode = isTransportErrorCode(code) ? code : 'unknown';
  const reason = typeof text === 'string' ? text.slice(0, 500) : 'no reason given';
  return new TransportError(TransportErrorCode.Refused, `refused our connection: ${reason}`, { remoteCode });
}

export interface AcceptorView {
  readonly clusterName: string;
  readonly selfId: number;
  /** Ids of the cluster's other members. */
  readonly peerIds: ReadonlySet<number>;
}

/**
 * Whether the acceptor takes this Hello: same wire version and cluster, a member's id, addressed
 * to this node, and from a lower id (the lower id dials). The proof is checked later, on Proof.
 */
export function checkHello(hello: Hello, view: AcceptorView): TransportError | null {
  if (hello.version !== WIRE_VERSION) {
    return new TransportError(TransportErrorCode.VersionMismatch, `wire version ${hello.version} is not this node's version ${WIRE_VERSION}`);
  }
  if (hello.clusterName !== view.clusterName) {
    return new TransportError(TransportErrorCode.WrongCluster, `wrong cluster name ${JSON.stringify(hello.clusterName)} (this node is in ${JSON.stringify(view.clusterName)})`);
  }
  if (!view.peerIds.has(hello.dialerId)) {
    const members = [view.selfId, ...view.peerIds].sort((a, b) => a - b).join(', ');
    return new TransportError(TransportErrorCode.UnknownPeer, `unknown peer id ${hello.dialerId} (members: ${members})`);
  }
  if (hello.acceptorId !== view.selfId) {
    return new TransportError(TransportErrorCode.WrongPeer, `dialled node ${hello.acceptorId} but reached node ${view.selfId}`);
  }
  if (hello.dialerId >= view.selfId) {
    return new TransportError(TransportErrorCode.WrongPeer, `node ${hello.dialerId} may not dial node ${view.selfId}: the lower id dials the higher`);
  }
  return null;
}

export function wrongSecret(): TransportError {
  return new TransportError(TransportErrorCode.WrongSecret, 'wrong shared secret');
}
