// process-ready [until=send] [ID...]: each node (all running nodes when none are named) handles one
// Ready, which is printed: messages go on the network, then persist, after-persist messages, apply,
// advance. until=send stops after sending the messages, before persisting; the next process-ready
// of that node finishes the Ready, and a crash loses it.

import { ScriptError, checkOptions, positionalIds } from '../command.js';
import type { Handler } from '../env.js';

export const processReady: Handler = {
  name: 'process-ready',
  usage: 'process-ready [until=send] [ID...]',
  run(env, cmd) {
    checkOptions(cmd, ['until']);
    const until = cmd.options.get('until');
    if (until !== undefined && until !== 'send') throw new ScriptError(`process-ready: until must be send, got ${until}`);
    for (const id of env.runningIds(positionalIds(cmd))) {
      if (!env.processReady(id, until === 'send')) env.write(`> ${id} has no Ready`);
    }
  },
};
