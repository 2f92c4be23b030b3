// The stream splitters cut a byte stream into whole messages however the bytes arrive: each input
// is fed split at every byte, and bytes one at a time, and must give the same messages; limits on
// size and depth hold across chunks.

import { Packr } from 'msgpackr';
import { describe, expect, test } from 'vitest';
import { EtcdGatewayError } from '../../src/etcd/errors.js';
import { JsonMessageSplitter, MsgpackMessageSplitter, type MessageSplitter } from '../../src/etcd/splitter.js';

const limits = { messageBytesMax: 4096, depthMax: 8 };

/** Every way of cutting `input` in two, and the one-byte-at-a-time way. */
function splits(input: Buffer): Buffer[][] {
  const ways: Buffer[][] = [];
  for (let at = 0; at <= input.length; at++) ways.push([input.subarray(0, at), input.subarray(at)]);
  ways.push([...input].map((byte) => Buffer.of(byte)));
  return ways;
}

function feedAll(splitter: MessageSplitter, chunks: readonly Buffer[]): unknown[] {
  const messages = chunks.flatMap((chunk) => splitter.feed(chunk));
  splitter.end();
  return messages;
}

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof EtcdGatewayError) return error.code;
    throw error;
  }
  return 'none';
}

describe('JSON messages one after another', () => {
  const messages = [
    { create_request: { key: 'Zm9v', range_end: 'Zm9w' } },
    { tricky: 'braces } { and ] [ inside a string, an escaped quote \\" and a backslash \\\\', nested: [{ a: [1, { b: null }] }] },
    { unicode: 'clé — 鍵 — 🔑' },
    { cancel_request: { watch_id: '7' } },
  ];
  const input = Buffer.from(` \n${JSON.stringify(messages[0])}\r\n${JSON.stringify(messages[1])}\t${JSON.stringify(messages[2])}${JSON.stringify(messages[3])} \n`);

  test('split at every byte, the same messages in the same order', () => {
    for (const chunks of splits(input)) expect(feedAll(new JsonMessageSplitter(limits), chunks)).toEqual(messages);
  });

  test('an empty stream, and one of whitespace only, hold no message', () => {
    expect(feedAll(new JsonMessageSplitter(limits), [])).toEqual([]);
    expect(feedAll(new JsonMessageSplitter(limits), [Buffer.from(' \n\t ')])).toEqual([]);
  });

  test('a message past messageBytesMax fails however it is split', () => {
    const big = Buffer.from(JSON.stringify({ key: 'x'.repeat(200) }));
    for (const chunks of splits(big)) expect(codeOf(() => feedAll(new JsonMessageSplitter({ ...limits, messageBytesMax: 100 }), chunks))).toBe('ETCD_GW_MESSAGE_TOO_LARGE');
  });

  test('nesting past depthMax fails as soon as it is seen', () => {
    const splitter = new JsonMessageSplitter({ ...limits, depthMax: 3 });
    expect(codeOf(() => splitter.feed(Buffer.from('{"a":[{"b":[')))).toBe('ETCD_GW_MALFORMED_BODY');
  });

  test('a stream that ends inside a message, a scalar, and bad JSON inside balanced braces all fail', () => {
    const cut = new JsonMessageSplitter(limits);
    cut.feed(Buffer.from('{"a": "}'));
    expect(codeOf(() => cut.end())).toBe('ETCD_GW_MALFORMED_BODY');
    expect(codeOf(() => new JsonMessageSplitter(limits).feed(Buffer.from('null')))).toBe('ETCD_GW_MALFORMED_BODY');
    expect(codeOf(() => new JsonMessageSplitter(limits).feed(Buffer.from('{"a": nope}')))).toBe('ETCD_GW_MALFORMED_BODY');
  });
});

describe('msgpack messages back to back', () => {
  const packr = new Packr({ useRecords: false });
  const messages = [{ createRequest: { key: Buffer.from('foo'), startRevision: 3 } }, { progressRequest: {} }, { cancelRequest: { watchId: 2 ** 40 } }];
  const input = Buffer.concat(messages.map((message) => packr.pack(message)));

  test('split at every byte, the same messages in the same order', () => {
    for (const chunks of splits(input)) {
      const decoded = feedAll(new MsgpackMessageSplitter(limits), chunks) as { cancelRequest?: { watchId: unknown } }[];
      expect(decoded).toHaveLength(3);
      expect(decoded[0]).toEqual({ createRequest: { key: Buffer.from('foo'), startRevision: 3 } });
      expect(decoded[1]).toEqual({ progressRequest: {} });
      // 2^40 travels as a 64-bit integer: the decoder hands it over as bigint, the field reader checks it.
      expect(BigInt(decoded[2]?.cancelRequest?.watchId as bigint)).toBe(2n ** 40n);
    }
  });

  test('an unfinished message past messageBytesMax fails; a stream that ends inside one fails', () => {
    const big = packr.pack({ key: Buffer.alloc(200) });
    expect(codeOf(() => new MsgpackMessageSplitter({ ...limits, messageBytesMax: 100 }).feed(big.subarray(0, 150)))).toBe('ETCD_GW_MESSAGE_TOO_LARGE');
    const cut = new MsgpackMessageSplitter(limits);
    cut.feed(big.subarray(0, 10));
    expect(codeOf(() => cut.end())).toBe('ETCD_GW_MALFORMED_BODY');
  });
});
