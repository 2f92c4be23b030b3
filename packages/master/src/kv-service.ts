// The master's side of the etcd API: writes are validated, then proposed (on the leader; a
// follower answers KV_NOT_LEADER and the gateway forwards the request), linearizable reads wait on
// ReadIndex, lease keep-alives and time-to-live are answered by the leader's lessor, and watches
// are served by this master's own watch hub.

import { randomBytes } from 'node:crypto';
import { RaftError, RaftErrorCode } from '@raftplane/raft';
import {
  KvError,
  isKvError,
  type ClientSession,
  type KvOperation,
  type KvResult,
  type LeaseGrantResponse,
  type PutResponse,
  type DeleteRangeResponse,
  type TxnResponse,
  type CompactionResponse,
  type LeaseRevokeResponse,
} from '@raftplane/kv';
import { MasterError, MasterErrorCode } from './errors.js';
import type { KvService } from './etcd/service.js';
import type { Master } from './master.js';

/** A random positive int64 (63 random bits, never 0), as etcd chooses lease ids. */
function randomLeaseId(): bigint {
  for (;;) {
    const id = randomBytes(8).readBigInt64BE(0) & 0x7fff_ffff_ffff_ffffn;
    if (id !== 0n) return id;
  }
}

/** Turns what proposing or waiting can fail with into the etcd error a client expects. */
export function asKvError(error: unknown): KvError {
  if (isKvError(error)) return error;
  if (error instanceof RaftError) {
    if (error.code === RaftErrorCode.ProposalDropped || error.code === RaftErrorCode.ReadIndexDropped) {
      const leader = error.details.leader ?? 0;
      switch (error.details.reason) {
        case 'not-leader':
          return new KvError('KV_NOT_LEADER', undefined, { leader });
        case 'uncommitted-bytes-max':
          return new KvError('KV_TOO_MANY_REQUESTS');
        case 'transfer-in-progress':
          return new KvError('KV_LEADER_CHANGED');
        default:
          return leader === 0 ? new KvError('KV_NO_LEADER') : new KvError('KV_NOT_LEADER', undefined, { leader });
      }
    }
  }
  if (error instanceof MasterError) {
    switch (error.code) {
      case MasterErrorCode.Overloaded:
        return new KvError('KV_TOO_MANY_REQUESTS');
      case MasterErrorCode.ProposalTimeout:
        return new KvError('KV_TIMEOUT');
      case MasterErrorCode.ProposalLost:
        return new KvError('KV_LEADER_CHANGED');
      case MasterErrorCode.Stopping:
        return new KvError('KV_STOPPING');
      default:
        break;
    }
  }
  throw error;
}

type WriteResponse = PutResponse | DeleteRangeResponse | TxnResponse | CompactionResponse | LeaseGrantResponse | LeaseRevokeResponse;

/** Environment variable that plants a bug for the chaos checkers to catch (see KvServiceTesting). */
export const PLANT_STALE_READS_ENV = 'RAFTPLANE_TESTING_PLANT_STALE_FOLLOWER_READS';

export interface KvServiceTesting {
  /**
   * TESTING ONLY, never set in production: a follower answers linearizable ranges from its own
   * state without ReadIndex, so they may be stale. `npm run chaos -- --plant-stale-reads` sets it
   * to show that the linearizability checker catches such a bug.
   */
  readonly plantStaleFollowerReads?: boolean;
}

export function createKvService(master: Master, testing: KvServiceTesting = {}): KvService {
  const kv = () => master.kv;
  const skipReadIndex = (): boolean => testing.plantStaleFollowerReads === true && master.leaderId() !== master.id;

  /** Validates, proposes, and unwraps the applied result (an error result changed nothing). */
  const write = async <T extends WriteResponse>(operation: KvOperation, session: ClientSession | null): Promise<T> => {
    master.validate(operation);
    let result: KvResult | null;
    try {
      result = await master.proposeKv({ operation, session, proposedAtMs: Date.now() });
    } catch (error) {
      throw asKvError(error);
    }
    if (result === null) throw new Error(`master ${master.id}: a proposal applied as an empty entry`);
    if (!result.ok) throw KvError.fromShape(result.error);
    return result.response as T;
  };

  const leaderOnly = (): void => {
    const leader = master.leaderId();
    if (leader === 0) throw new KvError('KV_NO_LEADER');
    if (leader !== master.id) throw new KvError('KV_NOT_LEADER', undefined, { leader });
  };

  return {
    memberId: master.id,
    async range(request) {
      if (!request.serializable && !skipReadIndex()) {
        try {
          await master.linearizableRead();
        } catch (error) {
          throw asKvError(error);
        }
      }
      return kv().range(request);
    },
    put: (request, session) => write<PutResponse>({ put: request }, session),
    deleteRange: (request, session) => write<DeleteRangeResponse>({ deleteRange: request }, session),
    txn: (request, session) => write<TxnResponse>({ txn: request }, session),
    compact: (request) => write<CompactionResponse>({ compaction: request }, null),
    async leaseGrant(request) {
      // The id is chosen before proposing, so that every master applies the same one (rule 3):
      // like etcd's, a random positive 63-bit number.
      leaderOnly();
      const id = request.id !== 0n ? request.id : randomLeaseId();
      const ttl = master.leaseGrantTtl(request.ttl);
      return write<LeaseGrantResponse>({ leaseGrant: { id, ttl } }, null);
    },
    leaseRevoke: (request) => write<LeaseRevokeResponse>({ leaseRevoke: request }, null),
    async leaseKeepAlive(request) {
      leaderOnly();
      const ttl = master.lessor.keepAlive(request.id);
      return { header: { revision: kv().currentRevision() }, id: request.id, ttl };
    },
    async leaseTimeToLive(request) {
      leaderOnly();
      const lease = kv().lease(request.id);
      if (lease === null) return { header: { revision: kv().currentRevision() }, id: request.id, ttl: -1, grantedTtl: 0, keys: [] };
      return {
        header: { revision: kv().currentRevision() },
        id: request.id,
        ttl: master.lessor.remainingSeconds(request.id),
        grantedTtl: lease.ttl,
        keys: request.keys ? lease.keys : [],
      };
    },
    async leaseLeases() {
      return { header: { revision: kv().currentRevision() }, leases: kv().leases().map((l) => ({ id: l.id })) };
    },
    watch: (request, sink) => master.watchHub.watch(request, sink),
    status: () => master.etcdStatus(),
    members: () => master.members(),
    header: (revision) => master.etcdHeader(revision),
    leaderApi: () => master.leaderApi(),
  };
}
