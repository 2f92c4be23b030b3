// pods/<name>/log as a raw text stream: the apiserver proxies it from the node agent, so it is
// not JSON and the typed client cannot read it. Any master serves it (followers forward to the
// leader); masters are tried in order, skipping one that cannot be reached or is mid-election.

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ClientError, ClientErrorCode, statusErrorFromResponse } from '@raftplane/client';

export interface LogStreamRequest {
  readonly servers: readonly string[];
  readonly token: string | undefined;
  /** `/api/v1/namespaces/<ns>/pods/<name>/log`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  /** How long a master may take to accept the connection before the next is tried. */
  readonly connectTimeoutMs: number;
  /** How long to wait for the answer's headers (the apiserver waits up to 10 s for the agent). */
  readonly headersTimeoutMs: number;
}

/** An error answer's body is a Status: read at most this much of it. */
const errorBodyBytesMax = 64 * 1024;

function open(server: string, request: LogStreamRequest): Promise<IncomingMessage> {
  const url = new URL(`${request.path}?${new URLSearchParams(request.query).toString()}`, server);
  const headers: Record<string, string> = { accept: 'text/plain, application/json', 'user-agent': 'raftplane-cli/0.1.0' };
  if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // Timers, not a socket timeout: once the answer streams, a quiet container (-f) is not a failure.
    const connectTimer = setTimeout(() => req.destroy(Object.assign(new Error(`${server} did not accept a connection within ${request.connectTimeoutMs} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' })), request.connectTimeoutMs);
    const headersTimer = setTimeout(() => req.destroy(new Error(`no answer from ${server} within ${request.headersTimeoutMs} ms`)), request.headersTimeoutMs);
    const settle = (): void => {
      clearTimeout(connectTimer);
      clearTimeout(headersTimer);
    };
    const req = send(url, { method: 'GET', headers, signal: request.signal }, (response) => {
      settle();
      resolve(response);
    });
    req.once('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.once('error', (error) => {
      settle();
      reject(error);
    });
    req.end();
  });
}

async function readError(response: IncomingMessage, path: string): Promise<Error> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response) {
    bytes += (chunk as Buffer).byteLength;
    if (bytes > errorBodyBytesMax) break;
    chunks.push(chunk as Buffer);
  }
  response.destroy();
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown = text;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // Not a Status: statusErrorFromResponse quotes the text.
  }
  return statusErrorFromResponse({ status: response.statusCode ?? 0, headers: {}, body }, { method: 'GET', path });
}

/**
 * The log stream of the first master that answers 200; the server's StatusError for another
 * answer (404, 400 from the agent); ClientError CLIENT_UNREACHABLE when no master could be reached.
 */
export async function openLogStream(request: LogStreamRequest): Promise<IncomingMessage> {
  let last: unknown;
  for (const server of request.servers) {
    let response: IncomingMessage;
    try {
      response = await open(server, request);
    } catch (error) {
      if (request.signal.aborted) throw request.signal.reason;
      last = error;
      continue;
    }
    if (response.statusCode === 200) return response;
    const error = await readError(response, request.path);
    // 503: this master has no leader to forward to right now; another may.
    if (response.statusCode === 503) {
      last = error;
      continue;
    }
    throw error;
  }
  if (last instanceof Error && !(last instanceof ClientError) && (last as { name?: string }).name !== 'StatusError') {
    throw new ClientError(ClientErrorCode.Unreachable, `${last.message}`, {}, { cause: last });
  }
  throw last;
}

/** Resolves when `out` drains or `signal` aborts, with both listeners removed. */
function drained(out: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    out.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Copies the stream to `out` as it comes, minding backpressure, until it ends or `signal` aborts. */
export async function copyLogStream(response: IncomingMessage, out: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  try {
    for await (const chunk of response) {
      if (!out.write(chunk as Buffer)) await drained(out, signal);
      if (signal.aborted) break;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    response.destroy();
  }
}

/** A line longer than this is written in pieces (each with the prefix): a container printing without newlines cannot fill memory. */
const lineCharsMax = 1024 * 1024;

/** Copies the stream whole lines at a time, each after `prefix`, so that concurrent streams interleave by line. */
export async function copyLogLines(response: IncomingMessage, out: NodeJS.WritableStream, prefix: string, signal: AbortSignal): Promise<void> {
  let pending = '';
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await drained(out, signal);
  };
  try {
    response.setEncoding('utf8');
    for await (const chunk of response) {
      pending += chunk as string;
      const end = pending.lastIndexOf('\n');
      if (end >= 0) {
        await write(pending.slice(0, end + 1).split('\n').slice(0, -1).map((line) => `${prefix}${line}\n`).join(''));
        pending = pending.slice(end + 1);
      }
      if (pending.length > lineCharsMax) {
        await write(`${prefix}${pending}\n`);
        pending = '';
      }
      if (signal.aborted) break;
    }
    if (pending !== '' && !signal.aborted) await write(`${prefix}${pending}\n`);
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    response.destroy();
  }
}
