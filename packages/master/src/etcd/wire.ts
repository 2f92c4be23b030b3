// The two encodings the gateway speaks: etcd's JSON (what etcd's gateway speaks, for any tool built
// for it) and msgpack with the store's internal field names (for our own clients, chosen by
// `Content-Type: application/x-msgpack`). Everything that differs between them is here.

import type { IncomingMessage } from 'node:http';
import { Packr } from 'msgpackr';
import { type EtcdFailure, streamErrorChunk, unaryErrorBody } from './errors.js';
import type { Dialect, JsonObject } from './json.js';
import { JsonMessageSplitter, MsgpackMessageSplitter, parseJson, parseMsgpack, type MessageSplitter, type SplitterLimits } from './splitter.js';

export const MSGPACK_CONTENT_TYPE = 'application/x-msgpack';
/** JSONPb.ContentType() in grpc-gateway v1. */
export const JSON_CONTENT_TYPE = 'application/json';

/** Plain msgpack maps (no msgpackr records, which other decoders do not read); bigint header ids become uint64. */
const packr = new Packr({ useRecords: false, variableMapSize: true });

export function dialectOf(req: IncomingMessage): Dialect {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  return type === MSGPACK_CONTENT_TYPE ? 'msgpack' : 'json';
}

export function contentTypeOf(dialect: Dialect): string {
  return dialect === 'json' ? JSON_CONTENT_TYPE : MSGPACK_CONTENT_TYPE;
}

/** A whole request body as a value tree (null for an empty body). */
export function parseBody(dialect: Dialect, body: Uint8Array): unknown {
  return dialect === 'json' ? parseJson(body) : parseMsgpack(body);
}

export function newSplitter(dialect: Dialect, limits: SplitterLimits): MessageSplitter {
  return dialect === 'json' ? new JsonMessageSplitter(limits) : new MsgpackMessageSplitter(limits);
}

/** One message to send: the etcd JSON form and the internal form, only one of which is ever built. */
export interface Answer {
  json(): JsonObject;
  internal(): unknown;
}

export function encodeAnswer(dialect: Dialect, answer: Answer): Buffer {
  return dialect === 'json' ? Buffer.from(JSON.stringify(answer.json())) : packr.pack(answer.internal());
}

/** One message of a stream, as grpc-gateway frames it: {"result": …}. The delimiter is the caller's (HTTP: "\n"). */
export function encodeStreamResult(dialect: Dialect, answer: Answer): Buffer {
  return dialect === 'json' ? Buffer.from(JSON.stringify({ result: answer.json() })) : packr.pack({ result: answer.internal() });
}

export function encodeUnaryError(dialect: Dialect, failure: EtcdFailure): Buffer {
  const body = unaryErrorBody(failure);
  return dialect === 'json' ? Buffer.from(JSON.stringify(body)) : packr.pack(body);
}

/** The last message of a failed stream: {"error": {grpc_code, http_code, message, http_status}}. */
export function encodeStreamError(dialect: Dialect, failure: EtcdFailure): Buffer {
  const chunk = streamErrorChunk(failure);
  return dialect === 'json' ? Buffer.from(JSON.stringify(chunk)) : packr.pack(chunk);
}

/** What follows each stream result: grpc-gateway's JSONPb delimiter; msgpack frames itself. */
export function streamDelimiter(dialect: Dialect): string {
  return dialect === 'json' ? '\n' : '';
}
