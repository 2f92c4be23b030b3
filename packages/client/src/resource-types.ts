// The TypeScript type of each served resource, by its plural name: what makes
// `client.resource('deployments')` a ResourceClient<Deployment>. One line per entry of api's
// `resources`; a test checks that the two lists agree.

import type {
  Binding,
  ConfigMap,
  DaemonSet,
  Deployment,
  Endpoints,
  Event,
  Job,
  Lease,
  Namespace,
  Node,
  Pod,
  ReplicaSet,
  Secret,
  Service,
  StatefulSet,
} from '@raftplane/api';

export interface ResourceTypes {
  bindings: Binding;
  configmaps: ConfigMap;
  endpoints: Endpoints;
  events: Event;
  namespaces: Namespace;
  nodes: Node;
  pods: Pod;
  secrets: Secret;
  services: Service;
  daemonsets: DaemonSet;
  deployments: Deployment;
  replicasets: ReplicaSet;
  statefulsets: StatefulSet;
  jobs: Job;
  leases: Lease;
}

export type ResourceName = keyof ResourceTypes;

/** The resources with a `scale` subresource (getScale / updateScale). */
export type ScalableResourceName = 'deployments' | 'replicasets' | 'statefulsets';

/** Every name of ResourceTypes, at run time. */
export const resourceNames: readonly ResourceName[] = Object.freeze([
  'bindings',
  'configmaps',
  'endpoints',
  'events',
  'namespaces',
  'nodes',
  'pods',
  'secrets',
  'services',
  'daemonsets',
  'deployments',
  'replicasets',
  'statefulsets',
  'jobs',
  'leases',
] satisfies ResourceName[]);
