// Random schedules for the simulator: fast-check generates a cluster, its options and a list of
// actions, shrinks failing ones, and replays one exactly from the printed seed and path.

import fc from 'fast-check';
import type { NodeOptions } from '../support/test-node.js';
import type { NetworkFaults } from './network.js';
import type { CrashPoint, Simulator } from './simulator.js';

/** Node numbers in actions are taken modulo the cluster size, so any schedule fits any cluster. */
export type Action =
  | { readonly kind: 'run'; readonly ticks: number }
  | { readonly kind: 'tick'; readonly node: number }
  | { readonly kind: 'ready'; readonly node: number; readonly crash: CrashPoint }
  | { readonly kind: 'deliver'; readonly count: number }
  | { readonly kind: 'propose'; readonly node: number; readonly count: number }
  | { readonly kind: 'crash'; readonly node: number }
  | { readonly kind: 'restart'; readonly node: number }
  | { readonly kind: 'crash-leader' }
  | { readonly kind: 'propose-crash-leader'; readonly deliver: number; readonly restartSomeone: boolean }
  | { readonly kind: 'partition'; readonly split: readonly number[] }
  | { readonly kind: 'isolate-leader' }
  | { readonly kind: 'cut-one-way'; readonly from: number; readonly to: number }
  | { readonly kind: 'heal' }
  | { readonly kind: 'faults'; readonly faults: NetworkFaults }
  | { readonly kind: 'churn'; readonly crashInReadyPerMille: number; readonly restartPercentPerTick: number }
  | { readonly kind: 'async-persist'; readonly percent: number }
  | { readonly kind: 'ready-start'; readonly node: number }
  | { readonly kind: 'compact'; readonly node: number; readonly keep: number }
  | { readonly kind: 'read-index'; readonly node: number }
  | { readonly kind: 'broadcast-commit'; readonly node: number }
  | { readonly kind: 'transfer'; readonly node: number; readonly to: number };

export interface Schedule {
  readonly nodeCount: number;
  readonly seed: number;
  readonly raft: NodeOptions;
  readonly actions: readonly Action[];
}

const node = fc.nat({ max: 6 });

export const faultsArbitrary: fc.Arbitrary<NetworkFaults> = fc.record({
  dropPercent: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 })),
  duplicatePercent: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 })),
  reorderWindow: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 50 })),
  delayPercent: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 })),
  delayTicksMax: fc.integer({ min: 1, max: 15 }),
});

export const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ kind: fc.constant('run' as const), ticks: fc.integer({ min: 1, max: 25 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('tick' as const), node }) },
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('ready' as const),
      node,
      crash: fc.oneof(
        { weight: 8, arbitrary: fc.constant('none' as const) },
        { weight: 1, arbitrary: fc.constant('after-send' as const) },
        { weight: 1, arbitrary: fc.constant('after-persist' as const) },
      ),
    }),
  },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('deliver' as const), count: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 16, arbitrary: fc.record({ kind: fc.constant('propose' as const), node, count: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('crash' as const), node }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('restart' as const), node }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'crash-leader' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('propose-crash-leader' as const),
      deliver: fc.nat({ max: 6 }),
      restartSomeone: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('partition' as const), split: fc.array(fc.nat({ max: 2 }), { minLength: 7, maxLength: 7 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'isolate-leader' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cut-one-way' as const), from: node, to: node }) },
  { weight: 5, arbitrary: fc.constant({ kind: 'heal' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('faults' as const), faults: faultsArbitrary }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('churn' as const),
      crashInReadyPerMille: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
      restartPercentPerTick: fc.integer({ min: 0, max: 50 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('async-persist' as const), percent: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('ready-start' as const), node }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('compact' as const), node, keep: fc.nat({ max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('read-index' as const), node }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('broadcast-commit' as const), node }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('transfer' as const), node, to: node }) },
);

export const raftOptionsArbitrary: fc.Arbitrary<NodeOptions> = fc.record({
  electionTimeoutTicks: fc.constant(10),
  heartbeatIntervalTicks: fc.constantFrom(1, 2, 3),
  preVote: fc.boolean(),
  checkQuorum: fc.boolean(),
  proposalForwarding: fc.boolean(),
  deferCommitBroadcast: fc.boolean(),
  // Small caps, so that batching, flow control and chunking are exercised on short runs.
  messageBytesMax: fc.integer({ min: 20, max: 400 }),
  inflightMsgsMax: fc.integer({ min: 1, max: 8 }),
  inflightBytesMax: fc.oneof(fc.constant(0), fc.integer({ min: 40, max: 2_000 })),
  uncommittedBytesMax: fc.integer({ min: 20, max: 4_000 }),
  snapshotChunkBytesMax: fc.integer({ min: 8, max: 200 }),
});

export const scheduleArbitrary: fc.Arbitrary<Schedule> = fc.record({
  nodeCount: fc.integer({ min: 3, max: 7 }),
  seed: fc.nat(),
  raft: raftOptionsArbitrary,
  actions: fc.array(actionArbitrary, { minLength: 10, maxLength: 120 }),
});

/** Applies one action to the simulation. */
export function perform(sim: Simulator, action: Action): void {
  const n = sim.ids.length;
  const id = (k: number): number => (k % n) + 1;
  switch (action.kind) {
    case 'run':
      sim.run(action.ticks);
      return;
    case 'tick':
      sim.tick(id(action.node));
      return;
    case 'ready':
      sim.handleReady(id(action.node), action.crash);
      return;
    case 'deliver':
      sim.deliver(action.count);
      return;
    case 'propose':
      for (let i = 0; i < action.count; i++) sim.propose(id(action.node));
      return;
    case 'crash':
      sim.crash(id(action.node));
      return;
    case 'restart':
      sim.restart(id(action.node));
      return;
    case 'crash-leader': {
      const leader = sim.leader();
      if (leader !== null) sim.crash(leader.id, 'leader');
      return;
    }
    case 'propose-crash-leader':
      // Raft Figure 8: a leader replicates a new entry to a few nodes at most, then dies.
      sim.proposeAndCrashLeader(action.deliver, action.restartSomeone);
      return;
    case 'partition': {
      const groups: number[][] = [[], [], []];
      sim.ids.forEach((nodeId, i) => (groups[action.split[i] ?? 0] as number[]).push(nodeId));
      sim.partition(groups.filter((g) => g.length > 0));
      return;
    }
    case 'isolate-leader': {
      const leader = sim.leader();
      if (leader !== null) sim.isolate(leader.id);
      return;
    }
    case 'cut-one-way':
      if (id(action.from) !== id(action.to)) sim.cutOneWay(id(action.from), id(action.to));
      return;
    case 'heal':
      sim.heal();
      return;
    case 'faults':
      sim.setFaults(action.faults);
      return;
    case 'churn':
      sim.setChurn(action.crashInReadyPerMille, action.restartPercentPerTick);
      return;
    case 'async-persist':
      sim.setAsyncPersist(action.percent);
      return;
    case 'ready-start':
      // Hand out a Ready and leave it unpersisted until a later step finishes it.
      sim.startReady(id(action.node));
      return;
    case 'compact':
      sim.compact(id(action.node), action.keep);
      return;
    case 'read-index':
      sim.readIndex(id(action.node));
      return;
    case 'broadcast-commit':
      sim.broadcastCommit(id(action.node));
      return;
    case 'transfer':
      sim.transferLeadership(id(action.node), id(action.to));
      return;
  }
}
