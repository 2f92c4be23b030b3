// @raftplane/client: the one client library — typed calls over a Transport (HTTP with endpoint
// list, leader following and safe retries; or in-process), informers (list + watch + frozen,
// indexed cache) and the rate-limited work queue. Each module's exports are listed here.
export * from './errors.js';
export * from './clock.js';
export * from './manual-clock.js';
export * from './backoff.js';
export type * from './logger.js';
export { silentLogger } from './logger.js';
export type * from './transport.js';
export * from './paths.js';
export * from './resource-types.js';
export * from './status-errors.js';
export * from './object-match.js';
export { withConcreteName } from './idempotent-create.js';
export * from './resource-client.js';
export * from './client.js';
export type { RetryPolicy } from './retry-loop.js';
export { EndpointSet, normalizeEndpoint } from './endpoints.js';
export { HttpTransport, type HttpTransportSettings } from './http-transport.js';
export * from './http-client.js';
export * from './object-key.js';
export * from './deep-freeze.js';
export * from './indexed-cache.js';
export type { ReflectorStats } from './reflector.js';
export * from './informer.js';
export * from './rate-limiter.js';
export * from './work-queue.js';
export { EventQueue, type EventQueueOptions } from './event-queue.js';
export { LineSplitter } from './line-splitter.js';
export * from './event-recorder.js';
export * from './leader-election.js';
