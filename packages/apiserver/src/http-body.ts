// Reading a request body with a size limit, without buffering past it: reading stops (the socket
// pauses), so the caller answers and closes the connection, and the rest is never read.

import type { IncomingMessage } from 'node:http';

/** The refusal of a body past the limit: `declared` is its Content-Length when it gave one, else null. */
export type BodyTooLarge = (bytesMax: number, declared: number | null) => Error;

export function readBody(req: IncomingMessage, bytesMax: number, tooLarge: BodyTooLarge): Promise<Buffer> {
  return new Promise((resolveBody, rejectBody) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > bytesMax) {
      req.pause();
      rejectBody(tooLarge(bytesMax, declared));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength;
      if (size > bytesMax) {
        req.off('data', onData);
        req.pause();
        rejectBody(tooLarge(bytesMax, null));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolveBody(Buffer.concat(chunks, size)));
    req.on('error', rejectBody);
  });
}
