import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = fileURLToPath(new URL('./packages/', import.meta.url));

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
        test: { name: 'unit', include: ['packages/*/test/**/*.test.ts'] },
      },
      {
        // Real master processes: one file at a time, so that timing claims (a new leader within
        // 3 s, no spurious elections) are not measured on two cores shared with other clusters.
        extends: true,
        test: { name: 'processes', include: ['test/**/*.test.ts'], fileParallelism: false, testTimeout: 120_000 },
      },
    ],
  },
});
