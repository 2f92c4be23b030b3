// Reads one watch event from its JSON text and checks its shape, so that a malformed event is a
// clear CLIENT_MALFORMED_RESPONSE at the socket rather than a TypeError deep in an informer.

import { ClientError, ClientErrorCode } from './errors.js';
import type { WatchEvent } from './transport.js';

const eventTypes: ReadonlySet<string> = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(origin: string, problem: string, text: string): ClientError {
  const excerpt = text.length > 200 ? `${text.slice(0, 200)}...` : text;
  return new ClientError(ClientErrorCode.MalformedResponse, `watch event from ${origin} ${problem}: ${excerpt}`, { endpoint: origin });
}

/** The event in `text`; throws ClientError CLIENT_MALFORMED_RESPONSE naming `origin` when it is not one. */
export function parseWatchEvent(text: string, origin: string): WatchEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(origin, 'is not JSON', text);
  }
  if (!isRecord(value)) throw malformed(origin, 'is not a JSON object', text);
  const { type, object } = value;
  if (typeof type !== 'string' || !eventTypes.has(type)) throw malformed(origin, `has type ${JSON.stringify(type)}, not one of ${[...eventTypes].join(', ')}`, text);
  if (!isRecord(object)) throw malformed(origin, 'has no object', text);
  if (type === 'ERROR') {
    if (typeof object.code !== 'number') throw malformed(origin, 'is an ERROR without a Status code', text);
    return value as unknown as WatchEvent;
  }
  const metadata = object.metadata;
  if (!isRecord(metadata)) throw malformed(origin, 'has an object without metadata', text);
  if (type === 'BOOKMARK' && typeof metadata.resourceVersion !== 'string') throw malformed(origin, 'is a BOOKMARK without metadata.resourceVersion', text);
  return value as unknown as WatchEvent;
}
