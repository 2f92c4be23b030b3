// `raftplane master ...`: the master process itself, run in this process (same pid, same signals),
// by loading @raftplane/master's main with the arguments that follow `master`.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export async function runMaster(argv: readonly string[]): Promise<void> {
  // The package exports only its index; main.js sits beside it in dist/.
  const index = createRequire(import.meta.url).resolve('@raftplane/master');
  const main = join(dirname(index), 'main.js');
  // The master's main parses process.argv itself (node's parseArgs defaults to argv[2...]).
  process.argv = [process.argv[0] ?? process.execPath, main, ...argv];
  await import(pathToFileURL(main).href);
}
