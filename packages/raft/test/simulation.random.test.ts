// Thousands of random hostile schedules against 3-7 cores: after every step Raft's safety
// properties hold; after healing, a leader is elected in bounded time and every payload that
// any node applied is applied on every node.
//
//   RAFT_SIM_RUNS=50000 npm run test:sim-long        more schedules
//   RAFT_SIM_SEED=<seed> RAFT_SIM_PATH=<path> ...    replay a failure exactly (fast-check prints both)

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SafetyViolation } from './sim/checker.js';
import { perform, scheduleArbitrary, type Schedule } from './sim/schedule.js';
import { Simulator } from './sim/simulator.js';

const runs = Number(process.env['RAFT_SIM_RUNS'] ?? 5000);
const replaySeed = process.env['RAFT_SIM_SEED'];
const replayPath = process.env['RAFT_SIM_PATH'];

/** Ticks allowed for an election after healing: 30 election timeouts. */
const ELECTION_TICKS_MAX = 300;

interface Totals {
  schedules: number;
  actions: number;
  ticks: number;
  crashes: number;
  leaders: number;
  proposals: number;
  acknowledged: number;
  electionTicksMax: number;
  messagesDelivered: number;
}

function runSchedule(schedule: Schedule, totals: Totals): void {
  const sim = new Simulator({ nodeCount: schedule.nodeCount, seed: schedule.seed, raft: schedule.raft });
  try {
    for (const action of schedule.actions) {
      sim.note(JSON.stringify(action));
      perform(sim, action);
    }
    const { electionTicks } = sim.finish(ELECTION_TICKS_MAX);
    totals.schedules++;
    totals.actions += schedule.actions.length;
    totals.ticks += sim.ticks;
    totals.crashes += sim.crashes;
    totals.leaders += sim.checker.leadersElected;
    totals.proposals += sim.proposalsMade;
    totals.acknowledged += sim.acknowledged.size;
    totals.electionTicksMax = Math.max(totals.electionTicksMax, electionTicks);
    totals.messagesDelivered += sim.network.delivered;
  } catch (error) {
    if (error instanceof SafetyViolation || error instanceof Error) {
      error.message += `\n--- cluster ---\n${sim.describe()}\n--- last steps ---\n${sim.recentTrace()}`;
    }
    throw error;
  }
}

describe('simulation: random schedules', () => {
  test(`${runs} schedules of drops, duplicates, reordering, partitions and crashes keep every safety property and lose nothing acknowledged`, () => {
    const totals: Totals = {
      schedules: 0,
      actions: 0,
      ticks: 0,
      crashes: 0,
      leaders: 0,
      proposals: 0,
      acknowledged: 0,
      electionTicksMax: 0,
      messagesDelivered: 0,
    };
    const parameters: fc.Parameters<[Schedule]> =
      replaySeed !== undefined
        ? { seed: Number(replaySeed), ...(replayPath !== undefined ? { path: replayPath } : {}), numRuns: runs, endOnFailure: true }
        : { numRuns: runs };
    fc.assert(
      fc.property(scheduleArbitrary, (schedule) => runSchedule(schedule, totals)),
      parameters,
    );
    console.log(`simulation totals: ${JSON.stringify(totals)}`);
    // A replayed path runs just the schedule it names.
    if (replayPath === undefined) expect(totals.schedules).toBe(runs);
    else expect(totals.schedules).toBeGreaterThan(0);
    expect(totals.acknowledged).toBeGreaterThan(0);
  }, 600_000);
});
