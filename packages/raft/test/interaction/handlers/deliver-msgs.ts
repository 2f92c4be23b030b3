// deliver-msgs [drop=IDS] [type=MsgX] [ID...]: delivers the messages queued for each named node
// (all nodes when none are named), printing each with what it made the node log; messages for
// the nodes in drop=(...) are discarded instead; type= limits both to one message type.

import { ScriptError, checkOptions, parseIdList, positionalIds } from '../command.js';
import type { Handler } from '../env.js';

export const deliverMsgs: Handler = {
  name: 'deliver-msgs',
  usage: 'deliver-msgs [drop=IDS] [type=MsgX] [ID...]',
  run(env, cmd) {
    checkOptions(cmd, ['drop', 'type']);
    const dropOption = cmd.options.get('drop');
    const drop = new Set(dropOption === undefined ? [] : parseIdList(dropOption, 'deliver-msgs: drop'));
    const type = cmd.options.get('type') ?? null;
    if (type !== null && !type.startsWith('Msg')) throw new ScriptError(`deliver-msgs: type must look like MsgApp, got ${type}`);
    let ids = positionalIds(cmd);
    for (const id of [...ids, ...drop]) env.testNode(id);
    if (ids.length === 0 && drop.size === 0) ids = env.ids();
    const targets = [...new Set([...ids, ...drop])].sort((a, b) => a - b);
    env.deliver(targets, { drop, type });
  },
};
