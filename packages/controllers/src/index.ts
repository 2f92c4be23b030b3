// @raftplane/controllers: the controller manager's controllers (ReplicaSet, Deployment, node
// lifecycle, Endpoints, ...), built on
// the client's informers and work queue, and the pure rollout arithmetic they share.
export * from './errors.js';
export * from './template-hash.js';
export * from './expectations.js';
export * from './pods.js';
export * from './informer-factory.js';
export * from './controller.js';
export * from './replicaset-controller.js';
export * from './rollout.js';
export * from './deployment-status.js';
export * from './deployment-controller.js';
export * from './endpoints-subsets.js';
export * from './endpoints-controller.js';
export * from './node-lifecycle-timing.js';
export * from './node-lifecycle-controller.js';
export * from './job-decisions.js';
export * from './job-controller.js';
export * from './daemonset-decisions.js';
export * from './daemonset-controller.js';
export * from './garbage-collector-plan.js';
export * from './garbage-collector.js';
export * from './namespace-controller-plan.js';
export * from './namespace-controller.js';
export * from './controller-manager.js';
