// stabilize [quiet=true] [ID...]: alternates process-ready and deliver-msgs over the named nodes
// (all running nodes when none are named) until none has a Ready or a message waiting, printing
// everything; quiet=true prints nothing, for setting a script up (say what it did in a comment).

import type { NodeId } from '../../../src/index.js';
import { ScriptError, checkOptions, parseBoolean, positionalIds } from '../command.js';
import type { Handler, InteractionEnv } from '../env.js';

/** Far more rounds than any script needs; reaching it means the nodes keep talking forever. */
const ROUNDS_MAX = 1000;

export const stabilize: Handler = {
  name: 'stabilize',
  usage: 'stabilize [quiet=true] [ID...]',
  run(env, cmd) {
    checkOptions(cmd, ['quiet']);
    const quietOption = cmd.options.get('quiet');
    const quiet = quietOption !== undefined && parseBoolean(quietOption, 'stabilize: quiet');
    const named = positionalIds(cmd);
    if (quiet) env.discardingOutput(() => settle(env, named));
    else settle(env, named);
  },
};

function settle(env: InteractionEnv, named: readonly NodeId[]): void {
  const ids = env.runningIds(named);
  for (let round = 0; round < ROUNDS_MAX; round++) {
    let busy = false;
    for (const id of ids) if (env.processReady(id)) busy = true;
    if (env.deliver(ids, null) > 0) busy = true;
    if (!busy) return;
  }
  throw new ScriptError(`stabilize: still busy after ${ROUNDS_MAX} rounds`);
}
