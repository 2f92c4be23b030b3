// The master processes of one cluster, run from this repository: the CLI's ClusterControl
// (packages/cli/src/cluster/masters.ts) with the repository as the masters' working directory, so
// that relative data directories and `.cluster/<name>/` land here whatever the caller's cwd.
// Used by `npm run cluster`, the tests that run real masters, and the benchmarks.

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterControl as Control, type ClusterControlOptions } from '../../packages/cli/src/cluster/masters.js';

export { agreedLeader, statusTable } from '../../packages/cli/src/cluster/masters.js';
export type { ClusterControlOptions } from '../../packages/cli/src/cluster/masters.js';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export type ClusterControl = Control;
export const ClusterControl = {
  load(configPath: string, options: ClusterControlOptions = {}): Promise<Control> {
    return Control.load(configPath, { workDir: repoRoot, ...options });
  },
};
