// The controller manager: one shared informer per resource and the controllers on top, run under
// one leadership signal (DESIGN rule 5). Stops everything it started when the signal aborts.

import type { Client } from '@raftplane/client';
import type { ControllerOptions } from './controller.js';
import { DaemonSetController, type DaemonSetControllerOptions } from './daemonset-controller.js';
import { DeploymentController } from './deployment-controller.js';
import { EndpointsController, type EndpointsControllerOptions } from './endpoints-controller.js';
import { GarbageCollector, type GarbageCollectorOptions } from './garbage-collector.js';
import { SharedInformerFactory } from './informer-factory.js';
import { JobController, type JobControllerOptions } from './job-controller.js';
import { NamespaceController, type NamespaceControllerOptions } from './namespace-controller.js';
import { NodeLifecycleController, type NodeLifecycleControllerOptions } from './node-lifecycle-controller.js';
import { ReplicaSetController, type ReplicaSetControllerOptions } from './replicaset-controller.js';

export interface ControllerManagerOptions extends ControllerOptions {
  readonly replicaSet?: ReplicaSetControllerOptions;
  readonly deployment?: ControllerOptions;
  readonly nodeLifecycle?: NodeLifecycleControllerOptions;
  readonly endpoints?: EndpointsControllerOptions;
  readonly job?: JobControllerOptions;
  readonly daemonSet?: DaemonSetControllerOptions;
  readonly garbageCollector?: GarbageCollectorOptions;
  readonly namespace?: NamespaceControllerOptions;
}

export interface ControllerManager {
  readonly informers: SharedInformerFactory;
  readonly replicaSets: ReplicaSetController;
  readonly deployments: DeploymentController;
  readonly nodeLifecycle: NodeLifecycleController;
  readonly endpoints: EndpointsController;
  readonly jobs: JobController;
  readonly daemonSets: DaemonSetController;
  readonly garbageCollector: GarbageCollector;
  readonly namespaces: NamespaceController;
  /** Settles once every controller and informer has stopped (after the signal aborted). */
  readonly done: Promise<void>;
}

/** Builds and starts the controllers; `done` settles after `signal` aborts and everything stopped. */
export function startControllerManager(client: Client, signal: AbortSignal, options: ControllerManagerOptions = {}): ControllerManager {
  const informers = new SharedInformerFactory(client, { clock: options.clock, logger: options.logger });
  const pods = informers.informer('pods');
  const rsInformer = informers.informer('replicasets');
  const replicaSets = new ReplicaSetController(client, rsInformer, pods, { ...options, ...options.replicaSet });
  const deployments = new DeploymentController(client, informers.informer('deployments'), rsInformer, pods, { ...options, ...options.deployment });
  const nodeLifecycle = new NodeLifecycleController(client, informers.informer('nodes'), informers.informer('leases'), pods, { ...options, ...options.nodeLifecycle });
  const endpoints = new EndpointsController(client, informers.informer('services'), pods, informers.informer('endpoints'), { ...options, ...options.endpoints });
  const jobs = new JobController(client, informers.informer('jobs'), pods, { ...options, ...options.job });
  const daemonSets = new DaemonSetController(client, informers.informer('daemonsets'), pods, informers.informer('nodes'), { ...options, ...options.daemonSet });
  const garbageCollector = new GarbageCollector(client, informers, { ...options, ...options.garbageCollector });
  const namespaces = new NamespaceController(client, informers.informer('namespaces'), { ...options, ...options.namespace });
  informers.start(signal);
  const controllers = [replicaSets, deployments, nodeLifecycle, endpoints, jobs, daemonSets, garbageCollector, namespaces];
  const done = Promise.all(controllers.map((c) => c.run(signal))).then(
    () => informers.stopped(),
    async (error: unknown) => {
      await informers.stopped();
      throw error;
    },
  );
  return { informers, replicaSets, deployments, nodeLifecycle, endpoints, jobs, daemonSets, garbageCollector, namespaces, done };
}
