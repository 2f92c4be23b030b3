// Mutation testing for the Raft core: plants one known bug at a time in a copy of
// packages/raft, runs all of the core's tests against it, and reports which test files noticed.
// A mutant that survives is a hole in the tests.
// Usage: npm run test:raft-mutants [-- --runs 3000 --only fig8-rule,vote-twice]
// Prints a table and, as its last line, one JSON object with the results.

import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface Mutant {
  readonly name: string;
  /** The Raft rule the mutant breaks. */
  readonly breaks: string;
  readonly file: string;
  readonly from: string;
  readonly to: string;
}

const MUTANTS: readonly Mutant[] = [
  {
    name: 'fig8-rule',
    breaks: '§5.4.2: commit entries of earlier terms by counting replicas',
    file: 'log.ts',
    from: 'if (index > this.committed && this.termOrZero(index) === term) {',
    to: 'if (index > this.committed) {',
  },
  {
    name: 'vote-before-persist',
    breaks: '§5.1/thesis §3.8: grant a vote before it is durable',
    file: 'raft.ts',
    from: 'if (type === MessageType.AppResp || type === MessageType.VoteResp || type === MessageType.PreVoteResp) {',
    to: 'if (type === MessageType.AppResp || ((type === MessageType.VoteResp || type === MessageType.PreVoteResp) && m.to === this.id)) {',
  },
  {
    name: 'ack-before-persist',
    breaks: 'acknowledge appended entries before they are durable',
    file: 'raft.ts',
    from: 'if (type === MessageType.AppResp || type === MessageType.VoteResp || type === MessageType.PreVoteResp) {',
    to: 'if ((type === MessageType.AppResp && m.to === this.id) || type === MessageType.VoteResp || type === MessageType.PreVoteResp) {',
  },
  {
    name: 'no-up-to-date-check',
    breaks: '§5.4.1: vote for a candidate whose log is behind',
    file: 'raft.ts',
    from: 'if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {',
    to: 'if (canVote) {',
  },
  {
    name: 'vote-twice',
    breaks: '§5.2: vote for more than one candidate in a term',
    file: 'raft.ts',
    from: 'this.vote === m.from ||\n      (this.vote === NONE && this.lead === NONE) ||',
    to: 'true ||',
  },
  {
    name: 'no-consistency-check',
    breaks: '§5.3: append without matching the previous entry',
    file: 'log.ts',
    from: 'if (!this.matchTerm(index, logTerm)) return -1;',
    to: 'if (index > this.lastIndex()) return -1;',
  },
  {
    name: 'stale-terms-accepted',
    breaks: '§5.1: act on messages from an older term',
    file: 'raft.ts',
    from: '} else if (m.term < this.term && m.term !== 0) {',
    to: '} else if (false) {',
  },
  {
    name: 'heartbeat-commit-unclamped',
    breaks: 'tell a follower to commit past what it is known to hold',
    file: 'raft.ts',
    from: 'const commit = Math.min(pr.match, this.raftLog.committed);',
    to: 'const commit = this.raftLog.committed;',
  },
  {
    name: 'leader-counts-unpersisted-log',
    breaks: 'thesis §10.2.1: the leader counts its own copy before it is durable',
    file: 'raft.ts',
    from: 'this.selfAck = { term: this.term, index: lastIndex };',
    to: 'this.progressOf(this.id).maybeUpdate(lastIndex);',
  },
  {
    name: 'snapshot-discards-log',
    breaks: '§7: a snapshot wipes entries the follower already acknowledged past it',
    file: 'raft.ts',
    from: 'if (this.raftLog.matchTerm(index, term)) {',
    to: 'if (false) {',
  },
  {
    name: 'no-empty-entry-no-fig8-rule',
    breaks: '§5.4.2 without the new term\'s empty entry to hide it',
    file: 'raft.ts',
    from: 'const appended = this.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }]);',
    to: 'const appended = true;',
  },
];
// The last mutant also needs the Figure 8 rule broken, or it is harmless.
const COMPANIONS: Readonly<Record<string, readonly string[]>> = { 'no-empty-entry-no-fig8-rule': ['fig8-rule'] };

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3000' },
    only: { type: 'string' },
    parallel: { type: 'string', default: '2' },
  },
});
const runs = Number(values.runs);
const parallel = Number(values.parallel);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`--parallel must be a positive integer, got ${values.parallel}`);
const only = values.only === undefined ? null : new Set(values.only.split(','));
const unknown = only === null ? [] : [...only].filter((n) => !MUTANTS.some((m) => m.name === n));
if (unknown.length > 0) throw new Error(`unknown mutants: ${unknown.join(', ')}; known: ${MUTANTS.map((m) => m.name).join(', ')}`);

const root = resolve(import.meta.dirname, '..');
const selected = MUTANTS.filter((m) => only === null || only.has(m.name));

interface Outcome {
  readonly name: string;
  readonly breaks: string;
  readonly killed: boolean;
  /** The test files that failed, simulator first. */
  readonly by: string;
  readonly seconds: number;
}

async function applyMutant(dir: string, mutant: Mutant): Promise<void> {
  const path = join(dir, 'packages/raft/src', mutant.file);
  const source = await readFile(path, 'utf8');
  const count = source.split(mutant.from).length - 1;
  if (count !== 1) throw new Error(`mutant ${mutant.name}: expected the pattern once in ${mutant.file}, found it ${count} times`);
  await writeFile(path, source.replace(mutant.from, mutant.to));
}

function runVitest(dir: string): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(
      process.execPath,
      [join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'packages/raft/test'],
      { cwd: dir, env: { ...process.env, RAFT_SIM_RUNS: String(runs), NO_COLOR: '1', FORCE_COLOR: undefined }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolveRun({ code: code ?? 1, output }));
  });
}

async function tryMutant(mutant: Mutant): Promise<Outcome> {
  const dir = await mkdtemp(join(tmpdir(), `raft-mutant-${mutant.name}-`));
  const started = process.hrtime.bigint();
  try {
    for (const file of ['package.json', 'tsconfig.base.json', 'vitest.config.ts']) await cp(join(root, file), join(dir, file));
    await cp(join(root, 'packages/raft'), join(dir, 'packages/raft'), {
      recursive: true,
      filter: (src) => !src.includes('node_modules') && !src.includes('/dist'),
    });
    await symlink(join(root, 'node_modules'), join(dir, 'node_modules'));
    for (const companion of COMPANIONS[mutant.name] ?? []) await applyMutant(dir, MUTANTS.find((m) => m.name === companion) as Mutant);
    await applyMutant(dir, mutant);
    const { code, output } = await runVitest(dir);
    const failedFiles = [...new Set([...output.matchAll(/FAIL\s+packages\/raft\/test\/([\w.-]+)\.test\.ts/g)].map((m) => m[1] as string))];
    failedFiles.sort((a, b) => Number(!a.startsWith('simulation')) - Number(!b.startsWith('simulation')) || a.localeCompare(b));
    return {
      name: mutant.name,
      breaks: mutant.breaks,
      killed: code !== 0,
      by: code === 0 ? '-' : failedFiles.length > 0 ? failedFiles.join(', ') : `exit ${code}`,
      seconds: Number((Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const outcomes: Outcome[] = [];
const queue = [...selected];
await Promise.all(
  Array.from({ length: Math.min(parallel, queue.length) }, async () => {
    for (let mutant = queue.shift(); mutant !== undefined; mutant = queue.shift()) {
      const outcome = await tryMutant(mutant);
      outcomes.push(outcome);
      console.error(`${outcome.killed ? 'killed  ' : 'SURVIVED'} ${outcome.name} (${outcome.seconds}s)`);
    }
  }),
);
outcomes.sort((a, b) => selected.indexOf(selected.find((m) => m.name === a.name) as Mutant) - selected.indexOf(selected.find((m) => m.name === b.name) as Mutant));

const header = ['mutant', 'breaks', 'result', 'seconds', 'failing test files'];
const rows = outcomes.map((o) => [o.name, o.breaks, o.killed ? 'killed' : 'SURVIVED', o.seconds.toFixed(1), o.by]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
console.log(`raft mutants: every packages/raft test per mutant, ${runs} random schedules`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of rows) console.log(line(row));
const killed = outcomes.filter((o) => o.killed).length;
console.log(`${killed} of ${outcomes.length} mutants killed`);
console.log(JSON.stringify({ bench: 'raft-mutants', runs, killed, total: outcomes.length, mutants: outcomes.map(({ name, killed: k, by }) => ({ name, killed: k, by })) }));
process.exitCode = killed === outcomes.length ? 0 : 1;
