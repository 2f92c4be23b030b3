// `npm run cluster -- <command> [--config cluster-configs/local-3.json]`: run a local cluster of
// master processes. Commands: up, down, status, kill <id>, stop <id>, start <id>, pause <id>,
// resume <id>, logs <id> [-f], wipe.

import { createReadStream, watch } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { agreedLeader, ClusterControl, statusTable } from './lib/cluster-control.js';

const usage = `usage: npm run cluster -- <command> [--config cluster-configs/local-3.json] [--run-dir .cluster/<name>]

  up              start every master that is not running; wait for a leader
  down            stop every master (SIGTERM, leadership handed over first)
  status          role, term, leader, commit and applied index, lag per master
  kill <id>       SIGKILL one master
  stop <id>       stop one master cleanly (SIGTERM)
  start <id>      start one master
  pause <id>      SIGSTOP one master
  resume <id>     SIGCONT one master
  logs <id> [-f]  print one master's log (JSON lines); -f follows it
  wipe            stop everything and delete the cluster's data and logs`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string', default: 'cluster-configs/local-3.json' },
    'run-dir': { type: 'string' },
    follow: { type: 'boolean', short: 'f', default: false },
    'timeout-ms': { type: 'string', default: '30000' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const [command, argument] = positionals;
const timeoutMs = Number(values['timeout-ms']);

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function up(control: ClusterControl): Promise<void> {
  const name = control.config.name;
  const running = await control.running();
  if (running.size === control.ids().length) {
    say(`cluster ${name} is already up (pids ${[...running.values()].join(', ')}); nothing to start`);
    say(statusTable(await control.client.statusAll(), running));
    return;
  }
  for (const id of control.ids()) {
    const pid = running.get(id);
    if (pid !== undefined) {
      say(`master ${id} is already running (pid ${pid})`);
      continue;
    }
    const started = await control.start(id);
    say(`master ${id} starting (pid ${started}), log ${control.logFile(id)}`);
  }
  await control.waitFor('every master to answer', (s) => [...s.values()].every((x) => x !== null), timeoutMs).catch(async (error: Error) => {
    const missing = [...(await control.client.statusAll()).entries()].filter(([, s]) => s === null).map(([id]) => id);
    throw new Error(`${error.message}\nmasters not answering: ${missing.join(', ')}; see their logs (npm run cluster -- logs <id>)`);
  });
  say('masters up: all answer on their API ports');
  const statuses = await control.waitFor('a leader', (s) => agreedLeader(s) !== 0, timeoutMs);
  say(`leader elected: master ${agreedLeader(statuses)}`);
  say(statusTable(statuses, await control.running()));
  const kubeconfig = await writeKubeconfig(control);
  if (kubeconfig !== null) {
    say(`\nkubeconfig for kubectl: ${kubeconfig}`);
    say(`  kubectl --kubeconfig ${kubeconfig} get namespaces`);
  }
}

/**
 * Writes `<run dir>/kubeconfig` for the first admin in the cluster's token file, pointing at the
 * first master (any master serves every request). kubectl sends tokens only over TLS: the API
 * port also speaks TLS, with each master's self-signed certificate unless the config names one.
 */
async function writeKubeconfig(control: ClusterControl): Promise<string | null> {
  const settings = control.config.apiserver;
  if (settings.tokenFile === null) return null;
  const line = (await readFile(settings.tokenFile, 'utf8'))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#') && settings.adminGroups.some((g) => l.includes(g)));
  if (line === undefined) return null;
  const token = line.split(',')[0]!;
  const first = control.config.masters[0]!;
  const insecure = settings.tlsCertFile === null ? '\n    insecure-skip-tls-verify: true' : '';
  const name = control.config.name;
  const text = `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: https://${first.api.host}:${first.api.port}${insecure}
users:
- name: ${name}-admin
  user:
    token: ${token}
contexts:
- name: ${name}
  context:
    cluster: ${name}
    user: ${name}-admin
    namespace: default
current-context: ${name}
`;
  const file = join(control.runDir, 'kubeconfig');
  await writeFile(file, text, { mode: 0o600 });
  return file;
}

async function down(control: ClusterControl): Promise<void> {
  const running = await control.running();
  if (running.size === 0) {
    say(`cluster ${control.config.name} is not running; nothing to stop`);
    return;
  }
  // Followers first, the leader last, so that leadership moves at most once.
  const leader = await control.client.leader();
  const order = [...running.keys()].sort((a, b) => Number(a === leader) - Number(b === leader));
  for (const id of order) {
    const pid = await control.stop(id);
    if (pid !== null) say(`master ${id} stopped (pid ${pid})`);
  }
}

async function follow(file: string): Promise<void> {
  let offset = 0;
  const pump = async (): Promise<void> => {
    const { size } = await stat(file);
    if (size <= offset) return;
    await new Promise<void>((done) => createReadStream(file, { start: offset, end: size - 1 }).on('end', done).pipe(process.stdout, { end: false }));
    offset = size;
  };
  await pump();
  const watcher = watch(file, () => void pump());
  await new Promise<void>((done) => process.once('SIGINT', done));
  watcher.close();
}

async function run(): Promise<void> {
  if (values.help || command === undefined) {
    say(usage);
    if (command === undefined && !values.help) process.exitCode = 2;
    return;
  }
  const control = await ClusterControl.load(values.config, values['run-dir'] === undefined ? {} : { runDir: values['run-dir'] });
  try {
    switch (command) {
      case 'up':
        return await up(control);
      case 'down':
        return await down(control);
      case 'status': {
        const running = await control.running();
        if (running.size === 0) say(`cluster ${control.config.name} is not running`);
        say(statusTable(await control.client.statusAll(), running));
        return;
      }
      case 'kill':
      case 'stop':
      case 'pause':
      case 'resume': {
        const id = control.requireId(argument);
        const signalOf = { kill: 'SIGKILL', stop: 'SIGTERM', pause: 'SIGSTOP', resume: 'SIGCONT' } as const;
        const pid =
          command === 'kill' ? await control.kill(id) : command === 'stop' ? await control.stop(id) : await control.signal(id, signalOf[command]);
        say(pid === null ? `master ${id} is not running` : `master ${id} (pid ${pid}): ${signalOf[command]} sent`);
        return;
      }
      case 'start': {
        const id = control.requireId(argument);
        const pid = await control.start(id);
        say(pid === null ? `master ${id} is already running (pid ${await control.pid(id)})` : `master ${id} starting (pid ${pid})`);
        return;
      }
      case 'logs': {
        const id = control.requireId(argument);
        const file = control.logFile(id);
        if (values.follow) return await follow(file);
        await new Promise<void>((done, fail) => createReadStream(file).on('error', fail).on('end', done).pipe(process.stdout, { end: false }));
        return;
      }
      case 'wipe': {
        await down(control);
        await control.wipe();
        say(`cluster ${control.config.name}: data and logs deleted`);
        return;
      }
      default:
        say(`unknown command ${JSON.stringify(command)}\n\n${usage}`);
        process.exitCode = 2;
    }
  } finally {
    await control.close();
  }
}

run().catch((error: unknown) => {
  process.stderr.write(`cluster: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
