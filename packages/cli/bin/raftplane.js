#!/usr/bin/env node
// The installed `raftplane` command (node_modules/.bin/raftplane, `npx raftplane`): runs the
// compiled CLI. npm links a workspace's bin only if the file exists when `npm ci` runs, and dist/ is
// built afterwards (`npm start`, `npm run build`), so the link points at this committed file.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('raftplane: packages/cli/dist/main.js is missing: build first (npm run build, or npm start)\n');
  process.exit(1);
}
await import(main.href);
