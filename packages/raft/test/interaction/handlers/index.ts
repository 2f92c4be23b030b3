// The command table: every handler an interaction script may call, by name.

import type { Handler } from '../env.js';
import { addNodes } from './add-nodes.js';
import { campaign } from './campaign.js';
import { compact } from './compact.js';
import { crash } from './crash.js';
import { deliverMsgs } from './deliver-msgs.js';
import { heal } from './heal.js';
import { isolate } from './isolate.js';
import { logLevel } from './log-level.js';
import { processReady } from './process-ready.js';
import { propose } from './propose.js';
import { raftLog } from './raft-log.js';
import { raftState } from './raft-state.js';
import { readIndex } from './read-index.js';
import { reportUnreachable } from './report-unreachable.js';
import { restart } from './restart.js';
import { stabilize } from './stabilize.js';
import { status } from './status.js';
import { tick } from './tick.js';
import { tickElection } from './tick-election.js';
import { tickHeartbeat } from './tick-heartbeat.js';
import { transferLeadership } from './transfer-leadership.js';

const all: readonly Handler[] = [
  addNodes,
  campaign,
  compact,
  crash,
  deliverMsgs,
  heal,
  isolate,
  logLevel,
  processReady,
  propose,
  raftLog,
  raftState,
  readIndex,
  reportUnreachable,
  restart,
  stabilize,
  status,
  tick,
  tickElection,
  tickHeartbeat,
  transferLeadership,
];

export const handlers: ReadonlyMap<string, Handler> = new Map(all.map((h) => [h.name, h]));
