// @raftplane/agent: the node agent and its container runtimes.
export * from './errors.js';
export type * from './runtime/runtime.js';
export * from './agent.js';
export * from './node-registration.js';
export * from './pod-addresses.js';
export * from './pod-status.js';
export * from './restart-backoff.js';
export { LogServer } from './log-server.js';
export { ProcessRuntime, type ProcessRuntimeOptions, type ProcessRuntimeLogger } from './runtime/process-runtime.js';
export { DockerRuntime, type DockerRuntimeOptions } from './runtime/docker-runtime.js';
