// onExit's event stream against a fake engine on a unix socket: the stream breaking (an engine
// restart) is reopened after a backoff on the injected clock, resuming just after the last event,
// and close() leaves no timer and no socket. The real engine is not restarted: others share it.

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@raftplane/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../src/runtime/docker-runtime.js';

const NODE = 'events-node';

interface FakeEngine {
  readonly socketPath: string;
  /** The query of each GET /events, in order. */
  readonly eventQueries: URLSearchParams[];
  /** Open /events responses, newest last. */
  readonly streams: ServerResponse[];
  close(): Promise<void>;
}

async function fakeEngine(directory: string): Promise<FakeEngine> {
  const socketPath = join(directory, 'docker.sock');
  const eventQueries: URLSearchParams[] = [];
  const streams: ServerResponse[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/v1.41/_ping') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
    } else if (url.pathname === '/v1.41/events') {
      eventQueries.push(url.searchParams);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
      streams.push(response);
    } else {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not in the fake"}');
    }
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    eventQueries,
    streams,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function dieEvent(id: string, timeNano: bigint): string {
  // Written by hand: timeNano is past 2^53, and the engine writes it as a plain integer.
  return `{"status":"die","id":"${id}","from":"raftplane/busybox:test","Type":"container","Action":"die","Actor":{"ID":"${id}","Attributes":{"exitCode":"0","io.raftplane.node":"${NODE}"}},"scope":"local","time":${timeNano / 1_000_000_000n},"timeNano":${timeNano}}\n`;
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('DockerRuntime.onExit', () => {
  let directory: string;
  let engine: FakeEngine;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'docker-events-'));
    engine = await fakeEngine(directory);
  });

  afterEach(async () => {
    await engine.close();
    await rm(directory, { recursive: true, force: true });
  });

  it("follows this node's die events, and reopens a broken stream after a backoff, resuming after the last event", async () => {
    const clock = new ManualClock();
    const runtime = await DockerRuntime.open({ socketPath: engine.socketPath, nodeName: NODE, clock, random: () => 0.5 });
    const seen: string[] = [];
    runtime.onExit(() => {
      throw new Error('a listener with a bug');
    });
    runtime.onExit((id) => seen.push(id));
    await until('the event stream', () => engine.streams.length === 1);
    expect(JSON.parse(engine.eventQueries[0]!.get('filters')!)).toEqual({ type: ['container'], event: ['die'], label: [`io.raftplane.node=${NODE}`] });
    expect(engine.eventQueries[0]!.get('since')).toBeNull();

    // In the future, so that the event, not the stream's opening, sets where a reconnect resumes.
    const timeNano = BigInt(Date.now() + 60_000) * 1_000_000n + 123_457n;
    engine.streams[0]!.write(`${dieEvent('c1', timeNano)}{"status":"start","id":"c9","Action":"start"}\nnot json\n`);
    await until('c1', () => seen.length === 1);
    expect(seen).toEqual(['c1']);

    // The engine goes away mid-stream: no reconnect before the backoff has passed on the clock.
    engine.streams[0]!.socket?.destroy();
    await until('the backoff timer', () => clock.pendingCount() === 1);
    expect(engine.streams).toHaveLength(1);
    expect(clock.requestedDelaysMs.at(-1)).toBeGreaterThanOrEqual(500);
    await clock.advanceAsync(clock.requestedDelaysMs.at(-1)!);
    await until('the reopened stream', () => engine.streams.length === 2);
    const since = engine.eventQueries[1]!.get('since')!;
    expect(since).toBe(`${timeNano / 1_000_000_000n}.${String((timeNano % 1_000_000_000n) + 1n).padStart(9, '0')}`);

    engine.streams[1]!.write(dieEvent('c2', timeNano + 5n));
    await until('c2', () => seen.length === 2);
    expect(seen).toEqual(['c1', 'c2']);

    await runtime.close();
    expect(clock.pendingCount()).toBe(0);
    await until('the server to see the stream closed', () => engine.streams[1]!.socket === null || engine.streams[1]!.socket.destroyed);
  });

  it('opens no event stream until a listener is added', async () => {
    const runtime = await DockerRuntime.open({ socketPath: engine.socketPath, nodeName: NODE });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(engine.streams).toHaveLength(0);
    await runtime.close();
  });
});
