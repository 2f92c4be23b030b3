// Small pieces of HTTP shared by requests and both watch transports: which failures provably
// happened before the request left, headers, query strings, bounded bodies, Retry-After.

import { ClientError, ClientErrorCode } from './errors.js';
import type { TransportResponse } from './transport.js';

/**
 * Error codes that mean the connection was never established, so the server never saw a byte of
 * the request: safe to send again anywhere, whatever the method.
 */
const notSentCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return errorCode((error as { cause?: unknown }).cause);
}

/** `not-sent` when the request provably never reached the server; `ambiguous` otherwise (reset, timeout after sending). */
export function failureKind(error: unknown): 'not-sent' | 'ambiguous' {
  const code = errorCode(error);
  return code !== undefined && notSentCodes.has(code) ? 'not-sent' : 'ambiguous';
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = errorCode(error);
  return code !== undefined && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
}

/** Lower-case names; a repeated header's values joined with `, ` (RFC 9110 §5.3). */
export function flattenHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** `?a=1&b=2`, or '' for no parameters. */
export function queryString(query: Readonly<Record<string, string>> | undefined): string {
  if (query === undefined) return '';
  const text = new URLSearchParams(query).toString();
  return text === '' ? '' : `?${text}`;
}

/** Reads a whole body, failing with CLIENT_RESPONSE_TOO_LARGE past `bytesMax` instead of buffering on. */
export async function readBodyBounded(body: AsyncIterable<Buffer | Uint8Array | string>, bytesMax: number, origin: string): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    bytes += buffer.byteLength;
    if (bytes > bytesMax) {
      throw new ClientError(ClientErrorCode.ResponseTooLarge, `answer from ${origin} is over ${bytesMax} bytes`, { endpoint: origin });
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The parsed JSON of a body; undefined when empty; the text itself when it is not JSON (a proxy's HTML page). */
export function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * How long the server asked us to wait, in ms: the `Retry-After` header in seconds, or a Status'
 * details.retryAfterSeconds; undefined when it said nothing (the HTTP-date form is not used by
 * Kubernetes and would need a wall clock).
 */
export function retryAfterMs(response: TransportResponse): number | undefined {
  const header = response.headers['retry-after'];
  if (header !== undefined && /^\s*\d+\s*$/.test(header)) return Number(header) * 1000;
  const body = response.body;
  if (typeof body === 'object' && body !== null) {
    const seconds = (body as { details?: { retryAfterSeconds?: unknown } }).details?.retryAfterSeconds;
    if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  }
  return undefined;
}

/** The answers that say "not done, try again": 503 (election, nothing proposed) and 429 (overload). */
export function isRetryableStatus(status: number): boolean {
  return status === 503 || status === 429;
}
