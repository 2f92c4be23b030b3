// Connecting to a backend for one client connection: the candidates in order, each given
// `connectTimeoutMs`, the first that accepts wins; one that refuses or does not answer in time is
// skipped (kube-proxy's userspace proxy does the same with its endpoint dial timeouts).

import { connect, type Socket } from 'node:net';
import type { Clock } from '@raftplane/client';
import type { Backend } from './frontends.js';

export interface DialFailure {
  readonly backend: Backend;
  /** `ECONNREFUSED`, `ETIMEDOUT` (ours: no answer in time), ... */
  readonly code: string;
}

export interface Dialed {
  /** Null when every candidate failed. */
  readonly socket: Socket | null;
  readonly backend: Backend | null;
  readonly failures: readonly DialFailure[];
}

/** One attempt: the socket once connected, or the error code. The socket is gone on failure. */
function dialOne(backend: Backend, timeoutMs: number, clock: Clock, track: (socket: Socket) => void): Promise<Socket | string> {
  return new Promise((resolve) => {
    // allowHalfOpen: a client that shuts down its sending side still gets the whole answer.
    const socket = connect({ host: backend.ip, port: backend.port, allowHalfOpen: true });
    track(socket);
    const done = (result: Socket | string): void => {
      timer.cancel();
      socket.off('connect', onConnect);
      socket.off('error', onError);
      if (typeof result === 'string') {
        // A late error from a socket given up on is no news.
        socket.on('error', () => {});
        socket.destroy();
      }
      resolve(result);
    };
    const onConnect = (): void => done(socket);
    const onError = (error: NodeJS.ErrnoException): void => done(error.code ?? 'ERROR');
    const timer = clock.setTimer(() => done('ETIMEDOUT'), timeoutMs);
    socket.once('connect', onConnect);
    socket.once('error', onError);
  });
}

/**
 * Tries `candidates` in order until one connects; `gone()` true (the client left, the proxy stops)
 * ends the attempts early. `track` sees every socket opened, so a stopping proxy can destroy it.
 */
export async function dialFirst(
  candidates: readonly Backend[],
  options: { readonly timeoutMs: number; readonly clock: Clock; readonly gone: () => boolean; readonly track: (socket: Socket) => void },
): Promise<Dialed> {
  const failures: DialFailure[] = [];
  for (const backend of candidates) {
    if (options.gone()) break;
    const result = await dialOne(backend, options.timeoutMs, options.clock, options.track);
    if (typeof result !== 'string') return { socket: result, backend, failures };
    failures.push({ backend, code: result });
  }
  return { socket: null, backend: null, failures };
}
