// Helpers for the read verbs' tests: reading a printed table back into cells (checking that
// every row is aligned under the header), running a long verb (-w, -f) while watching its output,
// a loopback port nothing listens on, and a fake apiserver that refuses everything with a 403.

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { expect } from 'vitest';
import { runVerb } from '../../src/verbs/index.js';

/** Where each column starts: the header's words, separated by at least two spaces (names like `NOMINATED NODE` have one). */
function columnStarts(header: string): number[] {
  const starts: number[] = [];
  for (let i = 0; i < header.length; i++) {
    if (header[i] === ' ') continue;
    if (i === 0 || (header[i - 1] === ' ' && header[i - 2] === ' ')) starts.push(i);
  }
  return starts;
}

/**
 * The cells of a table kubectl-style: the header's columns, each row cut at the same offsets.
 * Fails when a row's cell does not start exactly under its header (misaligned) or when columns
 * are closer than kubectl's three spaces.
 */
export function readTable(lines: readonly string[]): { header: string[]; rows: string[][] } {
  const [header = '', ...rows] = lines;
  const starts = columnStarts(header);
  const cut = (line: string): string[] => starts.map((start, i) => line.slice(start, starts[i + 1] ?? line.length).trimEnd());
  for (const row of rows) {
    for (const start of starts.slice(1)) {
      expect(row.slice(start - 3, start), `three spaces before column ${start} in ${JSON.stringify(row)}`).toBe('   ');
      expect(row[start], `a cell starting at ${start} in ${JSON.stringify(row)}`).not.toBe(' ');
    }
  }
  return { header: cut(header), rows: rows.map(cut) };
}

/** The output's lines without the final newline's empty line. */
export function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

export interface RunningVerb {
  stdout(): string;
  stderr(): string;
  /** Resolves once `predicate` holds for stdout (polled), or fails after `timeoutMs`. */
  waitFor(predicate: (stdout: string) => boolean, timeoutMs?: number): Promise<void>;
  /** Aborts the verb's signal (as SIGINT does) and returns its exit code. */
  stop(): Promise<number>;
  readonly done: Promise<number>;
}

/** Starts `raftplane <verb>` in process against `server` and returns while it runs. */
export function startVerb(server: string, verb: string, argv: readonly string[], options: { isTTY?: boolean } = {}): RunningVerb {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const stop = new AbortController();
  const done = runVerb(verb, [...argv, '--server', server], { stdout, stderr, env: { RAFTPLANE_CONFIG: '/nonexistent/raftplane.json' }, isTTY: options.isTTY ?? false, signal: stop.signal });
  return {
    stdout: () => out,
    stderr: () => err,
    done,
    async waitFor(predicate, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(out)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for output; stdout so far:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      stop.abort(new Error('interrupted'));
      return done;
    },
  };
}

/** `http://127.0.0.1:<port>` where nothing listens (a port just released). */
export async function closedServer(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

/** A fake apiserver that answers every request with Kubernetes' 403 for user "bob". */
export async function forbiddingServer(): Promise<{ server: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const parts = path.split('/').filter((p) => p !== '');
    const at = parts.indexOf('namespaces');
    const resource = (at >= 0 ? parts[at + 2] : parts[parts[0] === 'api' ? 2 : 3]) ?? '';
    const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `${resource} is forbidden: User "bob" cannot list resource "${resource}" in API group "" in the namespace "default"`, reason: 'Forbidden', code: 403 };
    res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify(status));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
