// The Client every component takes (DESIGN.md: the scheduler and the controllers reach state only
// through it): typed calls for every served resource on top of any Transport — HTTP for separate
// processes (http-client.ts), the apiserver's handlers in-process inside a master.

import { resourceByName, resources, type KubeObject, type ObjectMeta, type ResourceInfo, type Binding } from '@raftplane/api';
import { systemClock, type Clock } from './clock.js';
import { ClientError, ClientErrorCode, invalidOption } from './errors.js';
import { silentLogger, type ClientLogger } from './logger.js';
import { objectPath } from './paths.js';
import { TypedResourceClient, type CallOptions, type ResourceClient } from './resource-client.js';
import type { ResourceName, ResourceTypes } from './resource-types.js';
import type { RetryPolicy } from './retry-loop.js';
import { statusErrorFromResponse } from './status-errors.js';
import type { Transport } from './transport.js';

export interface Client {
  /** The typed calls for one resource, bound to `namespace` (undefined: every namespace, for list and watch). */
  resource<R extends ResourceName>(resource: R, namespace?: string): ResourceClient<ResourceTypes[R]>;
  /** The same for a resource found at run time (`resolveResource('deploy')`, `resourceByKind(...)`), untyped. */
  resourceFor(info: ResourceInfo, namespace?: string): ResourceClient<KubeObject>;
  /** POST pods/<name>/binding: the scheduler's decision. `pod` needs name and namespace; its uid, when set, is a precondition. */
  bind(pod: { readonly metadata: Pick<ObjectMeta, 'name' | 'namespace' | 'uid'> }, nodeName: string, options?: CallOptions): Promise<void>;
  readonly transport: Transport;
}

export interface ClientOptions {
  /** For generated names (generateName) and backoff jitter; [0, 1). */
  readonly random?: () => number;
  readonly clock?: Clock;
  /** How often a create whose answer was lost is repeated, and the backoff between. */
  readonly retry?: RetryPolicy;
  readonly logger?: ClientLogger;
}

export const defaultRetryPolicy: RetryPolicy = Object.freeze({ attemptsMax: 8, delayMsMin: 100, delayMsMax: 5_000 });

export function validateRetryPolicy(retry: RetryPolicy, option: string): RetryPolicy {
  if (!Number.isSafeInteger(retry.attemptsMax) || retry.attemptsMax < 1) throw invalidOption(`${option}.attemptsMax`, `${retry.attemptsMax} must be an integer >= 1`);
  if (!(retry.delayMsMin >= 0)) throw invalidOption(`${option}.delayMsMin`, `${retry.delayMsMin} must be >= 0`);
  if (!(retry.delayMsMax >= retry.delayMsMin)) throw invalidOption(`${option}.delayMsMax`, `${retry.delayMsMax} must be >= delayMsMin ${retry.delayMsMin}`);
  return Object.freeze({ attemptsMax: retry.attemptsMax, delayMsMin: retry.delayMsMin, delayMsMax: retry.delayMsMax });
}

/** The typed client over `transport`. Without `random`, names are generated with Math.random: inject it where tests must control them. */
export function createClient(transport: Transport, options: ClientOptions = {}): Client {
  const context = {
    transport,
    random: options.random ?? Math.random,
    clock: options.clock ?? systemClock,
    retry: validateRetryPolicy(options.retry ?? defaultRetryPolicy, 'retry'),
    logger: options.logger ?? silentLogger,
  };
  const pods = resourceByName('', 'pods');
  if (pods === undefined) throw new Error('the resource registry has no pods');
  return {
    transport,
    resource<R extends ResourceName>(resource: R, namespace?: string): ResourceClient<ResourceTypes[R]> {
      const info = resources.find((r) => r.resource === resource);
      if (info === undefined) throw new ClientError(ClientErrorCode.InvalidArgument, `no resource named ${JSON.stringify(resource)} is served`, { resource });
      return new TypedResourceClient<ResourceTypes[R]>(context, info, namespace);
    },
    resourceFor(info: ResourceInfo, namespace?: string): ResourceClient<KubeObject> {
      return new TypedResourceClient<KubeObject>(context, info, namespace);
    },
    async bind(pod, nodeName, callOptions = {}): Promise<void> {
      const { name, namespace, uid } = pod.metadata;
      if (name === undefined || name === '' || namespace === undefined || namespace === '') {
        throw new ClientError(ClientErrorCode.InvalidArgument, `bind: the pod needs a name and a namespace (got ${JSON.stringify({ name, namespace })})`, { resource: 'pods', name, namespace });
      }
      if (nodeName === '') throw new ClientError(ClientErrorCode.InvalidArgument, `bind pod ${namespace}/${name}: empty node name`, { resource: 'pods', name, namespace });
      const metadata: ObjectMeta = { name, namespace };
      if (uid !== undefined) metadata.uid = uid;
      const body: Binding = { apiVersion: 'v1', kind: 'Binding', metadata, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } };
      const request = { method: 'POST' as const, path: objectPath(pods, namespace, name, 'binding'), body, signal: callOptions.signal };
      const response = await transport.request(request);
      if (response.status < 200 || response.status >= 300) throw statusErrorFromResponse(response, request);
    },
  };
}
