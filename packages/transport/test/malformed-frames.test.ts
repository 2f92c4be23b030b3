// Malformed frames from an authenticated peer: each closes that connection with an error that
// names the peer and what was wrong, and none of the bad frame's messages reaches the master.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MessageType } from '@raftplane/raft';
import { FrameKind, TransportErrorCode, encodeFrame, encodeMessagesFrame, messageToTuple } from '../src/index.js';
import { HOST, closeAll, heartbeat, messageOf, startNode, expectNoSocketsLeft, type Node } from './support/fixtures.js';
import { rawDial } from './support/raw-peer.js';

afterAll(expectNoSocketsLeft);

let nodes: Node[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
});

/** A good heartbeat frame, then `bad`: the heartbeat is delivered, the connection closed, the error logged. */
async function sendBad(bad: Buffer, frameBytesMax = 1 << 20): Promise<{ node: Node; line: string; code: unknown }> {
  const node = await startNode(2, 0, [{ id: 1, host: HOST, port: 0 }], { frameBytesMax, queueBytesMax: frameBytesMax });
  nodes = [node];
  const raw = await rawDial(node.address.port, 2, { selfId: 1 });
  expect(raw.outcome?.[0]).toBe(FrameKind.Welcome);
  raw.socket.write(Buffer.concat([encodeMessagesFrame(FrameKind.Messages, [heartbeat(1, 2, 7)], 0, 1), bad]));
  expect(await raw.reader.next()).toBeNull(); // the transport closed the connection
  expect(node.inbox.map((m) => m.commit)).toEqual([7]);
  expect(node.transport.status().get(1)?.connected).toBe(false);
  const errors = node.logger.lines.filter((l) => l.level === 'error');
  expect(errors).toHaveLength(1);
  return { node, line: errors[0]?.msg ?? '', code: errors[0]?.fields['code'] };
}

const tuple = (type: number, fields: Partial<Record<number, unknown>> = {}): unknown[] => {
  const t = messageToTuple(messageOf(MessageType.Heartbeat, 1, 2));
  t[0] = type;
  for (const [i, v] of Object.entries(fields)) t[Number(i)] = v;
  return t;
};

describe('malformed frames', () => {
  it('closes on a frame above frameBytesMax', async () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(4096 + 1);
    const { line, code } = await sendBad(header, 4096);
    expect(code).toBe(TransportErrorCode.FrameTooLarge);
    expect(line).toMatch(/^peer 1 at 127\.0\.0\.1:\d+ sent a bad frame, closing the connection: frame of 4097 bytes is above the limit of 4096$/);
  });

  it('closes on a body that is not MessagePack', async () => {
    const { line, code } = await sendBad(Buffer.from([0, 0, 0, 2, 0x93, 0x01]));
    expect(code).toBe(TransportErrorCode.MalformedFrame);
    expect(line).toMatch(/^peer 1 at .* sent a bad frame, closing the connection: frame of 2 bytes is not MessagePack/);
  });

  it('closes on an unknown frame kind', async () => {
    const { code, line } = await sendBad(encodeFrame([77]));
    expect(code).toBe(TransportErrorCode.MalformedFrame);
    expect(line).toMatch(/unknown frame kind number 77$/);
  });

  it('closes on an unknown message type', async () => {
    const { code, line } = await sendBad(encodeFrame([FrameKind.Messages, [tuple(3 + 100)]]));
    expect(code).toBe(TransportErrorCode.UnknownMessageType);
    expect(line).toMatch(/sent a bad frame, closing the connection: message 0: unknown message type number 103$/);
  });

  it('closes on a field of the wrong type, delivering none of that frame', async () => {
    const good = messageToTuple(heartbeat(1, 2, 8));
    const { code, line } = await sendBad(encodeFrame([FrameKind.Messages, [good, tuple(MessageType.Heartbeat, { 3: 'three' })]]));
    expect(code).toBe(TransportErrorCode.MalformedMessage);
    expect(line).toMatch(/message 1: term is the string "three", expected an integer >= 0$/);
  });

  it('closes on a message whose sender is not the authenticated peer', async () => {
    const { code, line } = await sendBad(encodeMessagesFrame(FrameKind.Messages, [heartbeat(3, 2, 1)], 0, 1));
    expect(code).toBe(TransportErrorCode.MisaddressedMessage);
    expect(line).toMatch(/message 0 is from 3 to 2, but this connection is from 1 to 2$/);
  });

  it('closes on a message for another node', async () => {
    const { code } = await sendBad(encodeMessagesFrame(FrameKind.Messages, [heartbeat(1, 3, 1)], 0, 1));
    expect(code).toBe(TransportErrorCode.MisaddressedMessage);
  });

  it('closes on a handshake frame once open, and on an unsolicited BulkAck', async () => {
    const { line } = await sendBad(encodeFrame([FrameKind.Hello, 1, 'x', 1, 2, Buffer.alloc(32)]));
    expect(line).toMatch(/handshake frame Hello on an open connection$/);
    await closeAll(nodes);
    const { line: ack } = await sendBad(encodeFrame([FrameKind.BulkAck]));
    expect(ack).toMatch(/BulkAck with no Bulk frame in flight$/);
  });
});
