// @raftplane/scheduler: the pod queue, the pure filter and score plugins over a node snapshot
// that counts assumed pods, and the Scheduler component that binds pods and records events.
export * from './errors.js';
export * from './resources.js';
export * from './node-info.js';
export * from './cache.js';
export * from './pod-context.js';
export * from './filters.js';
export * from './scores.js';
export * from './fit-error.js';
export * from './schedule-pod.js';
export * from './keyed-heap.js';
export * from './scheduling-queue.js';
export * from './events.js';
export * from './scheduler.js';
