// @raftplane/master: one master process, and the pieces tests and scripts reuse.

export { loadClusterConfig, masterById, parseClusterConfig, settingsDefaults, type ClusterConfig, type MasterConfig } from './config.js';
export { MasterError, MasterErrorCode } from './errors.js';
export { createApiServer } from './http.js';
export { createLogger, type LogPosition } from './logger.js';
export { Master, type MasterStatus, type PeerReport } from './master.js';
export { PLANT_STALE_READS_ENV, createKvService } from './kv-service.js';
export type { Command, SnapshotJob, StateMachine } from './state-machine.js';
export { MasterClient, type StoredKey, type WriteFailure, type WriteOutcome } from './client.js';
export { createKubeApi, controlPlaneUser, type KubeApi, type KubeApiOptions } from './kube-api.js';
export { InProcessTransport, type InProcessTransportOptions } from './in-process-transport.js';
export { RaftLeadership } from './raft-leadership.js';
export { runLeaderComponents, type LeaderComponentsOptions } from './leader-components.js';
export { createEtcdGateway, etcdGatewayDefaults, type EtcdGateway } from './etcd/gateway.js';
