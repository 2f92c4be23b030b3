// @raftplane/master: one master process, and the pieces tests and scripts reuse.

export { loadClusterConfig, masterById, parseClusterConfig, settingsDefaults, type ClusterConfig, type MasterConfig } from './config.js';
export { MasterError, MasterErrorCode } from './errors.js';
export { createApiServer } from './http.js';
export { createLogger, type LogPosition } from './logger.js';
export { Master, type Applied, type MasterStatus, type PeerReport } from './master.js';
export type { Command, StateMachine } from './state-machine.js';
export { TestStateMachine } from './test-state-machine.js';
export { MasterClient, type ProposeFailure, type ProposeOutcome } from './client.js';
