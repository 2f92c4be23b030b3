// `raftplane cluster …` as the raftplane command runs it: from the repository the CLI was built in
// (its masters, `.cluster/` and `cluster-configs/` live there), agents and proxy on by default.

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCluster } from './command.js';

export { runCluster, type ClusterCommandOptions } from './command.js';
export { ClusterControl, agreedLeader, statusTable, type ClusterControlOptions } from './masters.js';
export { ClusterError, ClusterErrorCode } from './errors.js';

/** packages/cli/dist/cluster/ → the repository, four levels up (as ../verbs/cli-config.ts finds it). */
export const clusterWorkDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export function runClusterCommand(argv: readonly string[]): Promise<number> {
  // `raftplane cluster logs 1 | head`: main.ts ends the output quietly when the reader goes away;
  // what `up` started keeps running either way: every process is detached.
  return runCluster(argv, {
    program: 'raftplane cluster',
    workDir: clusterWorkDir,
    defaultConfig: join(clusterWorkDir, 'cluster-configs', 'local-3.json'),
    agentsDefault: 2,
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: process.stdout.isTTY === true,
  });
}
