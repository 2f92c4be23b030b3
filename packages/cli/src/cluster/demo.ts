// The demo app `npm start` deploys (issue 9): a Deployment of three busybox web servers, each
// answering with its pod's name, behind a NodePort Service; waits until the NodePort answers.
// `deleteDemo` removes both and waits until the agents have stopped the pods.

import type { Deployment, Pod, Service } from '@raftplane/api';
import { hasStatusReason } from '@raftplane/api';
import { createHttpClient, type HttpClient } from '@raftplane/client';
import { ClusterError, ClusterErrorCode } from './errors.js';
import type { RuntimeKind } from './nodes.js';

export const demoName = 'demo';
const demoNamespace = 'default';
/** The image the docker runtime runs (scripts/docker-engine.sh imports it); the process runtime ignores images. */
export const dockerDemoImage = 'raftplane/busybox:test';

/** The page is the pod's name, so that curling the NodePort a few times shows the round robin. */
const webScript = 'echo "$HOSTNAME" > index.html; exec busybox httpd -f -p "$POD_IP:8080"';

function demoDeployment(runtime: RuntimeKind): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: demoName, labels: { app: demoName } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: demoName } },
      template: {
        metadata: { labels: { app: demoName } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'web',
              image: runtime === 'docker' ? dockerDemoImage : 'busybox',
              imagePullPolicy: 'IfNotPresent',
              command: ['/bin/sh', '-c', webScript],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
            },
          ],
        },
      },
    },
  };
}

const demoService: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: demoName, labels: { app: demoName } },
  spec: { type: 'NodePort', selector: { app: demoName }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
};

export interface DemoOptions {
  readonly servers: readonly string[];
  readonly token: string | null;
  readonly signal: AbortSignal;
}

async function withClient<T>(options: DemoOptions, work: (client: HttpClient) => Promise<T>): Promise<T> {
  const lifetime = new AbortController();
  const client = createHttpClient({ endpoints: options.servers, ...(options.token === null ? {} : { token: options.token }), signal: lifetime.signal, requestTimeoutMs: 10_000 });
  try {
    return await work(client);
  } finally {
    lifetime.abort(new Error('done'));
    await client.closed.catch(() => undefined);
  }
}

async function createIfMissing<T>(create: () => Promise<T>, get: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (error) {
    if (hasStatusReason(error, 'AlreadyExists')) return get();
    throw error;
  }
}

/** Polls `check` every `intervalMs` until it returns a value, or throws a Timeout naming `what`. */
export async function until<T>(what: string, check: () => Promise<T | null>, timeoutMs: number, signal: AbortSignal, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal.throwIfAborted();
    // A ClusterError is a verdict (a process that went away); anything else is a try to repeat.
    const value = await check().catch((error: unknown) => {
      if (error instanceof ClusterError) throw error;
      return null;
    });
    if (value !== null) return value;
    if (Date.now() >= deadline) throw new ClusterError(ClusterErrorCode.Timeout, `timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const isReady = (pod: Pod): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

export interface DemoDeployed {
  readonly url: string;
  readonly nodePort: number;
  readonly pods: readonly { name: string; node: string; ip: string }[];
}

/** Creates the demo (or keeps the one there), waits until its pods are Ready and its URL answers. */
export async function deployDemo(options: DemoOptions & { runtime: RuntimeKind; nodeAddress: string; timeoutMs: number; onStep?: (step: string) => void }): Promise<DemoDeployed> {
  return withClient(options, async (client) => {
    const deployments = client.resource('deployments', demoNamespace);
    const services = client.resource('services', demoNamespace);
    await createIfMissing(() => deployments.create(demoDeployment(options.runtime)), () => deployments.get(demoName));
    const service = await createIfMissing(() => services.create(demoService), () => services.get(demoName));
    const nodePort = service.spec?.ports?.[0]?.nodePort ?? 0;
    if (nodePort === 0) throw new Error(`service ${demoName} has no nodePort`);
    const deadline = Date.now() + options.timeoutMs;
    options.onStep?.('demo pods Ready');
    const pods = await until(
      'the demo pods to be Running and Ready',
      async () => {
        const list = (await client.resource('pods', demoNamespace).list({ labelSelector: `app=${demoName}` })).items.filter((p) => p.metadata.deletionTimestamp === undefined);
        return list.length === 3 && list.every((p) => p.status?.phase === 'Running' && isReady(p)) ? list : null;
      },
      deadline - Date.now(),
      options.signal,
    );
    const url = `http://${options.nodeAddress}:${nodePort}/`;
    options.onStep?.(`${url} answering`);
    await until(`${url} to answer`, async () => ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok ? true : null), Math.max(1_000, deadline - Date.now()), options.signal);
    return { url, nodePort, pods: pods.map((p) => ({ name: p.metadata.name ?? '', node: p.spec?.nodeName ?? '', ip: p.status?.podIP ?? '' })) };
  });
}

/** Deletes the demo's Deployment and Service; waits until its pods are gone. Returns whether there was one. */
export async function deleteDemo(options: DemoOptions & { timeoutMs: number }): Promise<boolean> {
  return withClient(options, async (client) => {
    let found = false;
    for (const resource of ['deployments', 'services'] as const) {
      try {
        await client.resource(resource, demoNamespace).delete(demoName);
        found = true;
      } catch (error) {
        if (!hasStatusReason(error, 'NotFound')) throw error;
      }
    }
    // The garbage collector deletes the ReplicaSet and its pods; the agents stop their containers.
    await until(
      'the demo pods to be gone',
      async () => ((await client.resource('pods', demoNamespace).list({ labelSelector: `app=${demoName}` })).items.length === 0 ? true : null),
      options.timeoutMs,
      options.signal,
    );
    return found;
  });
}
