#!/usr/bin/env node
// The raftplane command: `raftplane <command> [flags]`: the server roles (`master`, `scheduler`,
// `controller-manager`, `agent`, `proxy`), `cluster` for a local cluster, and kubectl-like verbs.
// A bad command or flag is one line on stderr and exit code 1.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { componentKinds, componentUsage, parseComponentArgs, type ComponentKind } from './component-options.js';
import { runComponent } from './component.js';
import { CliError, CliErrorCode } from './errors.js';
import { runMaster } from './master.js';
import { runAgent } from './agent.js';
import { runProxy } from './proxy.js';
import { runClusterCommand } from './cluster/index.js';
import { isVerb, runVerb } from './verbs/index.js';
import { exitQuietlyWhenReaderLeaves } from './stdio.js';

const usage = `usage: raftplane <command> [flags]

commands:
  master               one master process (raftplane master --help)
  scheduler            the scheduler as its own process, leader-elected through a Lease
  controller-manager   the controllers as their own process, leader-elected through a Lease
  agent                the node agent: registers a node and runs the pods bound to it
  proxy                the service proxy, one per machine: ClusterIPs and NodePorts to ready endpoints
  cluster              a local cluster: up, down, status, kill|stop|start|pause|resume, logs, transfer-leader

kubectl-like verbs (the cluster from .cluster/local-3/raftplane.json, --config, $RAFTPLANE_CONFIG or --server):
  get, describe, events, logs, api-resources
  apply, create, delete, scale, rollout, label, annotate, cordon, uncordon, drain

raftplane <command> --help lists the command's flags with their defaults.`;

/** client-go's default identity: the hostname, then something unique to this process. */
function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(6).toString('hex')}`;
}

exitQuietlyWhenReaderLeaves();

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(`${usage}\n`);
    return 1;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (command === 'master') {
    await runMaster(rest);
    return -1; // the master's main owns the process from here, and exits itself
  }
  if (isVerb(command)) {
    const stop = new AbortController();
    const onSignal = (): void => stop.abort(new Error('interrupted'));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    return runVerb(command, rest, { stdout: process.stdout, stderr: process.stderr, env: process.env, isTTY: process.stdout.isTTY === true, signal: stop.signal, stdin: process.stdin });
  }
  if (command === 'agent') return runAgent(rest);
  if (command === 'proxy') return runProxy(rest);
  if (command === 'cluster') return runClusterCommand(rest);
  if ((componentKinds as readonly string[]).includes(command)) {
    const kind = command as ComponentKind;
    const parsed = parseComponentArgs(kind, rest, { identity: defaultIdentity });
    if (parsed.help) {
      process.stdout.write(`${componentUsage(kind)}\n`);
      return 0;
    }
    return runComponent(parsed.options);
  }
  throw new CliError(CliErrorCode.UnknownCommand, `unknown command ${JSON.stringify(command)} (commands: master, ${componentKinds.join(', ')}, agent, proxy; see raftplane --help)`);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: string }).code;
    process.stderr.write(`raftplane: ${code !== undefined && error instanceof CliError ? '' : code !== undefined ? `${code}: ` : ''}${message}\n`);
    process.exit(1);
  },
);
