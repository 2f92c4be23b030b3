// coordination.k8s.io/v1 Lease: node heartbeats and leader election.

import type { ObjectMeta } from './meta.js';

/** MicroTime: RFC 3339 with microseconds, `2026-11-26T12:31:43.123456Z`. */
export type MicroTime = string;

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: MicroTime;
  renewTime?: MicroTime;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: 'coordination.k8s.io/v1';
  kind?: 'Lease';
  metadata: ObjectMeta;
  spec?: LeaseSpec;
}
