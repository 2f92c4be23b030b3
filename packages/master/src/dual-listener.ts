// One port, two protocols: a connection that opens with a TLS handshake (first byte 0x16) is
// served over TLS, any other as plain HTTP, by the same HTTP server. The etcd gateway and scripts
// keep plain HTTP; kubectl, which sends its token only over TLS, uses https:// on the same port.

import type { Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

const TLS_HANDSHAKE = 0x16;
/** A connection that sends nothing for this long is closed. */
const FIRST_BYTE_TIMEOUT_MS = 10_000;

export function createDualListener(http: HttpServer, tls: { cert: string; key: string }): Server {
  const secure = createTlsServer({ cert: tls.cert, key: tls.key, ALPNProtocols: ['http/1.1'] }, (socket) => http.emit('connection', socket));
  secure.on('tlsClientError', (_error, socket) => socket.destroy());
  return createServer((socket: Socket) => {
    // Until its first byte a connection belongs to no server, so no server's timeouts apply to it.
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE) secure.emit('connection', socket);
      else http.emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
    socket.on('error', () => socket.destroy());
  });
}
