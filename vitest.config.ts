import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = fileURLToPath(new URL('./packages/', import.meta.url));
/** Tests under test/ that start no master process: they run with the unit project. */
const inProcessTests = ['test/chaos/fault-proxy.test.ts', 'test/checkers/**/*.test.ts'];

export default defineConfig({
  resolve: {
    // Tests run against each package's TypeScript sources, never a stale dist/. Child processes
    // that tests start (masters) run the compiled dist/, which `npm test` builds first.
    alias: [{ find: /^@raftplane\/([a-z-]+)$/, replacement: `${packages}$1/src/index.ts` }],
  },
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        // Plus the tests of the chaos tooling that start no master: the fault proxy and the checkers.
        test: { name: 'unit', include: ['packages/*/test/**/*.test.ts', ...inProcessTests] },
      },
      {
        // The storage suite again with a Raft journal in small segments, as the masters run it
        // (packages/storage/test/support/data-dir.ts); the journal's own tests run once, above.
        extends: true,
        test: {
          name: 'unit-journal',
          include: ['packages/storage/test/**/*.test.ts'],
          exclude: ['packages/storage/test/wal*.test.ts', 'packages/storage/test/journal.test.ts'],
          env: { RAFTPLANE_STORAGE_JOURNAL: '1' },
        },
      },
      {
        // Real master processes: one file at a time, so that timing claims (a new leader within
        // 3 s, no spurious elections) are not measured on two cores shared with other clusters.
        extends: true,
        test: { name: 'processes', include: ['test/**/*.test.ts'], exclude: inProcessTests, fileParallelism: false, testTimeout: 120_000 },
      },
    ],
  },
});
