// An informer on a harness's client, with a handler that logs every notification as text, and a
// stop that aborts it and waits until it has settled.

import type { KubeObject } from '@raftplane/api';
import { createInformer, isTombstone, type Clock, type Informer, type InformerOptions, type ResourceName, type ResourceTypes } from '../../src/index.js';
import { RecordingClock, sequenceRandom } from './clocks.js';
import type { Harness } from './harness.js';

export interface RunningInformer<T extends KubeObject> {
  readonly informer: Informer<T>;
  /** `add default/a@101`, `update default/a@101->103`, `delete default/b@104`, `tombstone default/a@101`. */
  readonly log: string[];
  readonly clock: Clock;
  stop(): Promise<void>;
}

function at(obj: KubeObject): string {
  const key = obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
  return `${key}@${obj.metadata.resourceVersion}`;
}

export function describeNotification(kind: 'add' | 'update' | 'delete', obj: KubeObject, old?: KubeObject): string {
  if (kind === 'update' && old !== undefined) return `update ${at(old)}->${obj.metadata.resourceVersion}`;
  return `${kind} ${at(obj)}`;
}

export function startInformer<R extends ResourceName>(
  harness: Harness,
  resource: R,
  options: InformerOptions<ResourceTypes[R]> & { namespace?: string } = {},
): RunningInformer<ResourceTypes[R]> {
  const clock = options.clock ?? new RecordingClock();
  const informer = createInformer(harness.client, resource, { random: sequenceRandom([0.5]), clock, ...options });
  const log: string[] = [];
  informer.addHandler({
    onAdd: (obj) => log.push(describeNotification('add', obj)),
    onUpdate: (old, obj) => log.push(describeNotification('update', obj, old)),
    onDelete: (obj) => log.push(isTombstone(obj) ? `tombstone ${at(obj.lastKnown)}` : describeNotification('delete', obj)),
  });
  const controller = new AbortController();
  const running = informer.run(controller.signal);
  return {
    informer,
    log,
    clock,
    async stop() {
      controller.abort();
      await running;
    },
  };
}
