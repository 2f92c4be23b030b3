// The Kubernetes API on this master: the apiserver package over this master's KV service (writes
// proposed through Raft, reads through ReadIndex, watches from this master's hub), its leader-only
// duties started and stopped with leadership (DESIGN rule 5).

import { randomUUID } from 'node:crypto';
import {
  ApiHandler,
  KubeApiServer,
  loadTokenFile,
  parseServiceRanges,
  runLeaderDuties,
  tokenAuthenticator,
  type ApiBackend,
} from '@raftplane/apiserver';
import { resourceByName, type MetadataEnv, type ResourceInfo } from '@raftplane/api';
import type { Logger } from 'pino';
import { createForwardingAgent } from './http.js';
import { InProcessTransport } from './in-process-transport.js';
import type { KvService } from './etcd/service.js';
import type { Master } from './master.js';

export interface KubeApiOptions {
  readonly master: Master;
  readonly service: KvService;
  readonly logger: Logger;
}

export interface KubeApi {
  /** The HTTP front, for the master's port. */
  readonly server: KubeApiServer;
  /** The client transport for components inside this master (same handlers, no HTTP). */
  readonly inProcess: InProcessTransport;
}

/** Who components inside a master act as. */
export const controlPlaneUser = Object.freeze({ name: 'system:raftplane:control-plane', uid: '', groups: Object.freeze(['system:masters']) });

export async function createKubeApi(options: KubeApiOptions): Promise<KubeApi> {
  const { master, service, logger } = options;
  const settings = master.config.apiserver;
  const backend: ApiBackend = {
    range: (request) => service.range(request),
    txn: (request) => service.txn(request, null),
    watch: (request, sink) => master.watchHub.watch(request, sink),
    compactedRevision: () => master.kv.compactedRevision(),
  };
  // Chosen here, before proposing, so that every master applies the same object (rule 3).
  const env: MetadataEnv = { now: Date.now, uid: randomUUID, random: Math.random };
  const users = settings.tokenFile === null ? null : await loadTokenFile(settings.tokenFile);
  if (users === null) logger.warn({}, 'apiserver.tokenFile is not set: the Kubernetes API is open to anyone who can reach it, as an admin');
  const self = master.self;
  const handler = new ApiHandler({
    backend,
    env,
    authorization: { adminGroups: settings.adminGroups, readOnlyGroups: settings.readOnlyGroups },
    serverAddress: `${self.api.host}:${self.api.port}`,
    bookmarkIntervalMs: settings.bookmarkIntervalMs,
    watchTimeoutMsMin: settings.watchTimeoutMsMin,
    watchTimeoutSecondsMax: settings.watchTimeoutSecondsMax,
    serviceRanges: parseServiceRanges(settings.serviceClusterIPRange, settings.serviceNodePortRange),
    logger,
  });
  const server = new KubeApiServer({
    handler,
    backend,
    leader: {
      isLeader: () => master.leaderId() === master.id,
      leaderApi: () => master.leaderApi(),
      selfId: master.id,
    },
    authenticate: tokenAuthenticator(users),
    limits: {
      bodyBytesMax: settings.bodyBytesMax,
      inflightPerUserMax: settings.inflightPerUserMax,
      inflightMax: settings.inflightMax,
      leaderWaitMs: settings.leaderWaitMs,
      watchBufferBytesMax: master.config.api.watchBufferBytesMax,
    },
    logger,
    now: Date.now,
    dispatcher: createForwardingAgent(),
  });
  master.onLeadership((signal) => {
    const podsCache = handler.watchCacheOf(resourceByName('', 'pods') as ResourceInfo);
    void runLeaderDuties({ store: handler.objects, backend, podsCache, env, intervalMs: settings.leaderDutiesIntervalMs, logger, signal });
  });
  return { server, inProcess: new InProcessTransport({ handler, backend, user: controlPlaneUser }) };
}
