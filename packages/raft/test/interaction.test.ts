// Interaction scripts for the Raft core, in the manner of etcd-io/raft's data-driven tests: each
// testdata/*.txt file is a list of commands (campaign 1, propose 1 foo, process-ready 1,
// deliver-msgs 2, stabilize, ...), each followed by `----` and the output it must print. The
// commands are documented in interaction/handlers/ (one file each).
//
// To regenerate the golden output after a deliberate change in behaviour:
//
//   RAFT_REWRITE_GOLDEN=1 npx vitest run packages/raft/test/interaction.test.ts
//
// then read the whole diff (git diff packages/raft/test/testdata) and keep it only once every
// changed line is understood to be what Raft should do. A golden file is only as good as its review.

import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { runScriptFile } from './interaction/runner.js';

const testdata = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const rewrite = process.env['RAFT_REWRITE_GOLDEN'] === '1';
const scripts = readdirSync(testdata)
  .filter((name) => name.endsWith('.txt'))
  .sort();

describe('raft interaction scripts', () => {
  it.each(scripts)('%s', (name) => {
    runScriptFile(join(testdata, name), { rewrite });
  });
});
