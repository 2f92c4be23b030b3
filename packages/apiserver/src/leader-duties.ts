// What the apiserver does on the leader alone, under its leadership signal (DESIGN rule 5): the
// system namespaces exist; pods whose graceful deletion ran out of time are removed (their node
// never confirmed). Namespaces being deleted are emptied by the controller manager's namespace
// controller. Every write is a compare-and-swap on what was read, so a deposed leader's stale
// decision cannot commit.

import { formatTime, prepareForCreate, resourceByName, StatusError, withDefaults, type KubeObject, type MetadataEnv, type ResourceInfo } from '@raftplane/api';
import type { ApiBackend } from './backend.js';
import type { ApiLogger } from './logger.js';
import type { ObjectStore } from './object-store.js';
import { GracefulDeletionReaper } from './graceful-reaper.js';
import type { WatchCache } from './watch-cache.js';

export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

const namespaces = resourceByName('', 'namespaces') as ResourceInfo;



export async function ensureSystemNamespaces(store: ObjectStore, env: MetadataEnv): Promise<string[]> {
  const created: string[] = [];
  for (const name of systemNamespaces) {
    if ((await store.find(namespaces, '', name)) !== null) continue;
    const ns = prepareForCreate(withDefaults({ kind: 'Namespace', apiVersion: 'v1', metadata: { name } } as KubeObject), namespaces, env);
    try {
      await store.create(namespaces, '', ns);
      created.push(name);
    } catch (error) {
      if (!(error instanceof StatusError && error.reason === 'AlreadyExists')) throw error;
    }
  }
  return created;
}

export interface LeaderDutiesOptions {
  readonly store: ObjectStore;
  readonly backend: ApiBackend;
  /** The pods' watch cache, when the apiserver has one. */
  readonly podsCache: WatchCache | null;
  readonly env: MetadataEnv;
  readonly intervalMs: number;
  readonly logger: ApiLogger;
  /** Aborted when leadership ends: the duties stop within one interval (rule 5). */
  readonly signal: AbortSignal;
}

/** Runs the duties until `signal` aborts; failures are logged and retried on the next round. */
export async function runLeaderDuties(options: LeaderDutiesOptions): Promise<void> {
  const { store, env, logger, signal } = options;
  let namespacesReady = false;
  const reaper = new GracefulDeletionReaper(options.backend, options.podsCache, logger);
  signal.addEventListener('abort', () => reaper.stop(), { once: true });
  while (!signal.aborted) {
    try {
      if (!namespacesReady) {
        const created = await ensureSystemNamespaces(store, env);
        if (created.length > 0) logger.info({ namespaces: created }, 'created the system namespaces');
        namespacesReady = true;
      }
      const pods = await reaper.reap(store, env.now());
      if (pods.length > 0) logger.info({ pods, at: formatTime(env.now()) }, 'removed pods whose graceful deletion ran out of time');
    } catch (error) {
      if (signal.aborted) return;
      logger.warn({ err: error }, 'leader duties failed; retrying next round');
    }
    await new Promise<void>((resolve) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve();
      };
      // The listener goes with the wait: one per round would pile up on the leadership signal.
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, options.intervalMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
