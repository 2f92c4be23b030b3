// `cluster up`: checks that the ports are free, starts what is not running (masters, then agents,
// then the proxy, each a detached process), waits for each stage (masters up → leader elected →
// agents ready → proxy ready), writes the client files, and with --demo deploys the demo app.

import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { adminToken, apiGet, serverUrls, writeAccessFiles, type AccessFiles } from './access.js';
import type { ClusterContext } from './context.js';
import { deployDemo, dockerDemoImage, until, type DemoDeployed } from './demo.js';
import { checkDocker } from './docker.js';
import { ClusterError, ClusterErrorCode } from './errors.js';
import { agreedLeader } from './masters.js';
import { nodeSpecs, type ComponentName, type NodeSpec, type NodesRecord } from './nodes.js';
import { describeBusyPorts, portFree, type BusyPort } from './ports.js';
import { printStatus, type NodeList } from './status.js';

/** The agents' log endpoint port (`raftplane agent --port`'s default), on each node's own address. */
const agentPort = 10_250;
/** What `raftplane agent` logs once registered and following its pods (../agent.ts). */
const agentReadyMsg = 'ready: following the pods bound to this node';

/** Fails with PortInUse, naming the holder, when a port of something not yet running is taken. */
async function checkPorts(context: ClusterContext, masters: readonly number[], nodes: readonly NodeSpec[]): Promise<void> {
  const wanted: { host: string; port: number; what: string }[] = [];
  for (const m of context.control.config.masters) {
    if (!masters.includes(m.id)) continue;
    wanted.push({ host: m.api.host, port: m.api.port, what: `master ${m.id}'s API` }, { host: m.peer.host, port: m.peer.port, what: `master ${m.id}'s peer port` });
  }
  for (const n of nodes) wanted.push({ host: n.address, port: agentPort, what: `agent ${n.name}'s log endpoint` });
  const busy: BusyPort[] = [];
  for (const w of wanted) if (!(await portFree(w.host, w.port))) busy.push(w);
  if (busy.length === 0) return;
  const lines = await describeBusyPorts(busy);
  throw new ClusterError(
    ClusterErrorCode.PortInUse,
    `cannot start cluster ${context.control.config.name}: its ports are taken; another cluster is probably running (stop it first: \`npm stop\` or \`npx raftplane cluster down\` in its folder)\n  ${lines.join('\n  ')}`,
  );
}

/** The last lines of a log, indented, for an error that says why a process went away. */
async function logTail(file: string, lines = 5): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).map((l) => `    ${l.slice(0, 400)}`).join('\n');
}

/** A process `up` started that has exited already: fail now, with its log's last lines, rather than at the timeout. */
async function exited(what: string, pid: number | null, log: string): Promise<void> {
  if (pid !== null) return;
  throw new ClusterError(ClusterErrorCode.NotRunning, `${what} exited while starting; the end of ${log}:\n${await logTail(log)}`);
}

async function startMasters(context: ClusterContext, missing: readonly number[]): Promise<void> {
  const { control, progress, flags } = context;
  progress.begin('masters up');
  for (const id of missing) {
    const pid = await control.start(id);
    if (pid !== null) progress.note(`master ${id} starting (pid ${pid}), log ${control.logFile(id)}`);
  }
  await until(
    `every master to answer (see ${context.program} logs <id>)`,
    async () => {
      const statuses = await control.client.statusAll();
      for (const [id, status] of statuses) if (status === null) await exited(`master ${id}`, await control.pid(id), control.logFile(id));
      return [...statuses.values()].every((x) => x !== null) ? true : null;
    },
    flags.timeoutMs,
    context.signal,
    50,
  ).catch((error: unknown) => {
    progress.fail('masters up');
    throw error;
  });
  progress.done('masters up: all answer on their API ports');
}

/** Whether `component`'s log has gained a line with message `msg` since byte `offset` (this run's lines only). */
async function loggedSince(context: ClusterContext, component: ComponentName, offset: number, msg: string): Promise<boolean> {
  const text = await readFile(context.nodes.logFile(component)).catch(() => Buffer.alloc(0));
  return text.subarray(offset).toString('utf8').includes(`"msg":${JSON.stringify(msg)}`);
}

async function startNodes(context: ClusterContext, record: NodesRecord, access: AccessFiles, servers: readonly string[], token: string | null): Promise<void> {
  const { nodes, progress, flags } = context;
  progress.begin('agents ready');
  // A node stays Ready in the API for a grace period after its agent stops: an agent started now
  // counts once it has also logged that it is ready, in this run's part of its log.
  const started = new Map<ComponentName, number>();
  for (const node of record.nodes) {
    const component: ComponentName = `agent-${node.name}`;
    const offset = await nodes.logBytes(component);
    const pid = await nodes.startAgent(node, record, { servers, tokenFile: access.tokenFile });
    if (pid === null) continue;
    started.set(component, offset);
    progress.note(`agent ${node.name} starting on ${node.address} (pid ${pid}, ${record.runtime} runtime), log ${nodes.logFile(component)}`);
  }
  const names = record.nodes.map((n) => n.name);
  await until(
    `nodes ${names.join(', ')} to be Ready (see ${context.program} logs agent-${names[0] ?? 'node-1'})`,
    async () => {
      for (const [component, offset] of started) {
        await exited(`agent ${component.slice('agent-'.length)}`, await nodes.pid(component), nodes.logFile(component));
        if (!(await loggedSince(context, component, offset, agentReadyMsg))) return null;
      }
      const list = await apiGet<NodeList>(servers, token, '/api/v1/nodes');
      const ready = new Set((list?.items ?? []).filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name));
      return names.every((n) => ready.has(n)) ? true : null;
    },
    flags.timeoutMs,
    context.signal,
    100,
  ).catch((error: unknown) => {
    progress.fail('agents ready');
    throw error;
  });
  progress.done(`agents ready: ${names.join(', ')} Ready`);
  progress.begin('proxy ready');
  const offset = await nodes.logBytes('proxy');
  const pid = await nodes.startProxy(record.nodes, { servers, tokenFile: access.tokenFile });
  if (pid !== null) progress.note(`proxy starting (pid ${pid}), log ${nodes.logFile('proxy')}`);
  // The proxy says nothing when it has synced; it is taken as ready once it runs and has logged its
  // start: its first list comes within a round trip, and `--demo` waits for the URL anyway.
  await until(
    `the proxy to start (see ${context.program} logs proxy)`,
    async () => {
      await exited('the proxy', await nodes.pid('proxy'), nodes.logFile('proxy'));
      return pid === null || (await loggedSince(context, 'proxy', offset, 'starting')) ? true : null;
    },
    flags.timeoutMs,
    context.signal,
    100,
  ).catch((error: unknown) => {
    progress.fail('proxy ready');
    throw error;
  });
  progress.done(`proxy ready: NodePorts on ${record.nodes.map((n) => n.address).join(', ')}`);
}

/** The `cluster up` command. */
export async function up(context: ClusterContext): Promise<void> {
  const { control, nodes, progress, flags, say } = context;
  const startedAt = Date.now();
  if (flags.demo && flags.agents === 0) throw new ClusterError(ClusterErrorCode.InvalidUsage, '--demo needs agents to run on (--agents 1 or more)');
  const running = await control.running();
  const missing = control.ids().filter((id) => !running.has(id));
  const wantNodes = nodeSpecs(flags.agents);
  const runningNodes = await nodes.running();
  const missingNodes = wantNodes.filter((n) => !runningNodes.has(`agent-${n.name}`));
  const proxyMissing = wantNodes.length > 0 && !runningNodes.has('proxy');
  if (missing.length === 0 && missingNodes.length === 0 && !proxyMissing && !flags.demo) {
    say(`cluster ${control.config.name} is already up (pids ${[...running.values(), ...runningNodes.values()].join(', ')}); nothing to start`);
    await printStatus(context);
    return;
  }
  await checkPorts(context, missing, missingNodes);
  if (flags.runtime === 'docker' && missingNodes.length > 0) await checkDocker(flags.dockerSocket, flags.demo ? dockerDemoImage : null);
  if (missing.length > 0) await startMasters(context, missing);
  progress.begin('leader elected');
  const statuses = await control.waitFor('a leader', (s) => agreedLeader(s) !== 0, flags.timeoutMs).catch((error: Error) => {
    progress.fail('leader elected');
    throw new ClusterError(ClusterErrorCode.Timeout, error.message);
  });
  const leader = agreedLeader(statuses);
  progress.done(`leader elected: master ${leader} (term ${statuses.get(leader)?.term ?? '?'})`);
  const token = await adminToken(control.config);
  const servers = serverUrls(control.config);
  let access: AccessFiles | null = null;
  if (token !== null) access = await writeAccessFiles(control.config, control.runDir, token);
  if (wantNodes.length > 0) {
    if (access === null) throw new ClusterError(ClusterErrorCode.InvalidConfig, `cluster ${control.config.name} has no apiserver.tokenFile with an admin token: the agents and the proxy need one`);
    const record: NodesRecord = { runtime: flags.runtime, dockerSocket: flags.dockerSocket, nodes: wantNodes };
    await nodes.writeRecord(record);
    await startNodes(context, record, access, servers, token);
  }
  let demo: DemoDeployed | null = null;
  if (flags.demo) {
    progress.begin('demo app serving');
    demo = await deployDemo({ servers, token, signal: context.signal, runtime: flags.runtime, nodeAddress: wantNodes[0]?.address ?? '127.0.1.1', timeoutMs: flags.timeoutMs }).catch((error: unknown) => {
      progress.fail('demo app serving');
      throw error;
    });
    progress.done(`demo app serving: ${demo.url} (${demo.pods.length} pods on ${[...new Set(demo.pods.map((p) => p.node))].sort().join(', ')})`);
  }
  say('');
  await printStatus(context);
  printNextSteps(context, access, demo, leader, startedAt);
}

function printNextSteps(context: ClusterContext, access: AccessFiles | null, demo: DemoDeployed | null, leader: number, startedAt: number): void {
  const { say } = context;
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  // Set by scripts/start.ts: when `npm start` began, so that the time printed includes the build.
  const npmStartedAt = Number(process.env.RAFTPLANE_STARTED_AT);
  const since = Number.isFinite(npmStartedAt) && npmStartedAt > 0 ? ` (${((Date.now() - npmStartedAt) / 1000).toFixed(1)} s since npm start began, build included)` : '';
  say('');
  if (demo !== null) say(`demo app: ${demo.url}`);
  say(`cluster ${context.control.config.name} up in ${seconds} s${since}`);
  if (access !== null) {
    say(`\nkubeconfig for kubectl: ${access.kubeconfig}`);
    say(`config for raftplane: ${access.cliConfig}`);
  }
  const steps: [string, string][] = [];
  if (demo !== null) steps.push([`curl ${demo.url}`, "a pod's name; again for another (round robin)"]);
  steps.push(['npx raftplane get pods -o wide', 'the pods, their addresses and nodes']);
  steps.push(['npx raftplane cluster status', 'masters (role, term, commit, lag), leader, nodes']);
  steps.push([`npx raftplane cluster kill ${leader}`, `SIGKILL the leader: another is elected${demo === null ? '' : ', the app keeps serving'}`]);
  steps.push([`npx raftplane cluster start ${leader}`, 'it comes back as a follower (then: cluster transfer-leader ' + leader + ')']);
  if (access !== null) steps.push([`kubectl --kubeconfig ${relative(process.cwd(), access.kubeconfig)} get nodes`, 'kubectl works too']);
  steps.push([context.program.startsWith('npm') ? 'npm run cluster -- down' : 'npm stop', 'stop everything (no process is left)']);
  const width = Math.max(...steps.map(([command]) => command.length)) + 2;
  say('\nwhat to try next:');
  for (const [command, why] of steps) say(`  ${command.padEnd(width)}# ${why}`);
}
