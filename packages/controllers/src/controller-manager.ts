// The controller manager: one shared informer per resource and the controllers on top, run under
// one leadership signal (DESIGN rule 5). Stops everything it started when the signal aborts.

import type { Client } from '@raftplane/client';
import type { ControllerOptions } from './controller.js';
import { DeploymentController } from './deployment-controller.js';
import { SharedInformerFactory } from './informer-factory.js';
import { ReplicaSetController, type ReplicaSetControllerOptions } from './replicaset-controller.js';

export interface ControllerManagerOptions extends ControllerOptions {
  readonly replicaSet?: ReplicaSetControllerOptions;
  readonly deployment?: ControllerOptions;
}

export interface ControllerManager {
  readonly informers: SharedInformerFactory;
  readonly replicaSets: ReplicaSetController;
  readonly deployments: DeploymentController;
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
  informers.start(signal);
  const done = Promise.all([replicaSets.run(signal), deployments.run(signal)]).then(
    () => informers.stopped(),
    async (error: unknown) => {
      await informers.stopped();
      throw error;
    },
  );
  return { informers, replicaSets, deployments, done };
}
