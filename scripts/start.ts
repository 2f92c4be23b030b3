// `npm start` (issue 9): builds, brings up the default local cluster (three masters, two agents
// with the process runtime unless `npm start -- --runtime docker`, the proxy), deploys the demo app
// and prints its URL and the time since `npm start` began, build included. `npm stop` undoes it.
// Imports nothing of ours: in a fresh clone nothing is built yet when this starts.

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
// Read by `raftplane cluster up` to report the time since here, build included.
const startedAt = Date.now();
const run = (args: readonly string[]): number => spawnSync(process.execPath, args, { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, RAFTPLANE_STARTED_AT: String(startedAt) } }).status ?? 1;

const built = run([join(repoRoot, 'node_modules/typescript/bin/tsc'), '-b']);
if (built !== 0) {
  process.stderr.write('npm start: the build failed (tsc -b), see above\n');
  process.exit(built);
}
process.exit(run([join(repoRoot, 'packages/cli/dist/main.js'), 'cluster', 'up', '--agents', '2', '--demo', ...process.argv.slice(2)]));
