// @raftplane/agent: the node agent and its container runtimes.
export * from './errors.js';
export type * from './runtime/runtime.js';
