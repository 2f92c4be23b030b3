// `npm run cluster -- <command> [--config cluster-configs/local-3.json]`: the local cluster
// commands of `raftplane cluster` (packages/cli/src/cluster/), run from this repository with
// masters only unless `up --agents N` asks for agents (as this script always did). Commands: up,
// down, status, kill|stop|start|pause|resume <id>, transfer-leader <id>, logs <id> [-f], wipe.

import { join } from 'node:path';
import { runCluster } from '../packages/cli/src/cluster/command.js';
import { exitQuietlyWhenReaderLeaves } from '../packages/cli/src/stdio.js';
import { repoRoot } from './lib/cluster-control.js';

exitQuietlyWhenReaderLeaves();

const code = await runCluster(process.argv.slice(2), {
  program: 'npm run cluster --',
  workDir: repoRoot,
  defaultConfig: join(repoRoot, 'cluster-configs', 'local-3.json'),
  agentsDefault: 0,
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: process.stdout.isTTY === true,
});
process.exitCode = code;
