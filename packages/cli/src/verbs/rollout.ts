// `raftplane rollout status|history|undo|restart|pause|resume`, kubectl's subcommands for
// Deployments (status and restart for DaemonSets too). status follows the object with a watch and
// prints kubectl's messages: one live line rewritten in place on a terminal, else a line per change.

import { qualifiedKind, qualifiedResource, type Deployment, type KubeObject, type ResourceInfo } from '@raftplane/api';
import { parseDurationMs } from '../duration.js';
import { CliError, CliErrorCode, invalidFlag } from '../errors.js';
import { parseResourceArgs } from './resource-words.js';
import { withSession, type Session, type Verb, type VerbIO } from './session.js';
import { parseWriteArgs, type WriteFlag } from './write-flags.js';
import { forEachReporting, integerFlag, objectRef } from './write-support.js';
import { changeCauseAnnotation, historyTable, revisionTemplate, revisionsOf, rollbackTarget, sameTemplate, templateOf } from './write-rollout-history.js';
import { statusViewer, type RolloutState } from './write-rollout-status.js';
import { waitForObject } from './write-wait.js';

const subcommands = ['history', 'pause', 'restart', 'resume', 'status', 'undo'] as const;
type Subcommand = (typeof subcommands)[number];

const flags: WriteFlag[] = [
  { name: 'timeout', type: 'string', value: '<duration>', fallback: '0: wait for ever', text: 'status: give up waiting after this long' },
  { name: 'watch', short: 'w', type: 'boolean', fallback: 'true (--watch=false to look once)', text: 'status: follow the rollout until it finishes' },
  { name: 'to-revision', type: 'string', value: '<revision>', fallback: '0: the previous one', text: 'undo: the revision to go back to (see rollout history)' },
  { name: 'revision', type: 'string', value: '<revision>', fallback: '0: the list', text: 'history: the pod template of this revision' },
];

export const rolloutUsage = {
  usage: ['raftplane rollout status|history|undo|restart|pause|resume <type> <name> | <type>/<name>'],
  summary: [
    'status: waits for a Deployment or DaemonSet rollout to finish, a live line on a terminal;',
    'history: the revisions (--revision: one, with its pod template); undo: back to the previous one (or --to-revision);',
    'restart: new pods by a template annotation; pause/resume: hold and release a Deployment\'s rollouts.',
  ],
  examples: ['raftplane rollout status deploy/web --timeout=2m', 'raftplane rollout undo deploy/web --to-revision=2'],
};

/** Who rollout's changes are recorded for in managedFields, as kubectl names itself. */
const fieldManager = 'kubectl-rollout';

/** The annotation `rollout restart` sets on the pod template: a new template, hence new pods. */
export const restartedAtAnnotation = 'kubectl.kubernetes.io/restartedAt';

interface Target {
  readonly info: ResourceInfo;
  readonly namespace: string | undefined;
  readonly name: string;
}

export const rollout: Verb = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') return parseWriteArgs('rollout', ['--help'], flags, rolloutUsage, io).helped ? 0 : 1;
  if (sub === undefined || !(subcommands as readonly string[]).includes(sub)) {
    throw new CliError(CliErrorCode.UnknownCommand, `${sub === undefined ? 'rollout needs a subcommand' : `unknown rollout subcommand "${sub}"`}: one of ${subcommands.join(', ')}`);
  }
  // `--watch=false` is kubectl's spelling; parseArgs has no negation.
  const noWatch = rest.includes('--watch=false') || rest.includes('-w=false');
  const { values, positionals, helped } = parseWriteArgs(`rollout ${sub}`, rest.filter((a) => a !== '--watch=false' && a !== '-w=false'), flags, rolloutUsage, io);
  if (helped) return 0;
  const pairs = parseResourceArgs(positionals);
  if (pairs.length === 0) throw new CliError(CliErrorCode.InvalidArgument, 'You must provide one or more resources by argument or filename.');
  const missing = pairs.find((p) => p.name === undefined);
  if (missing !== undefined) throw new CliError(CliErrorCode.InvalidArgument, `resource(s) were provided, but no name was specified (${missing.info.resource})`);
  const timeoutMs = values.timeout === undefined ? undefined : parseDurationMs(values.timeout as string);
  if (timeoutMs === null) throw invalidFlag('timeout', `must be a duration (30s, 5m), got ${JSON.stringify(values.timeout)}`);
  const toRevision = integerFlag('to-revision', values['to-revision'] as string | undefined, 0) ?? 0;
  const revision = integerFlag('revision', values.revision as string | undefined, 0) ?? 0;
  return withSession(values, io, (session) => {
    const targets = pairs.map(({ info, name }) => ({ info, namespace: info.namespaced ? session.namespace : undefined, name: name ?? '' }));
    return forEachReporting(targets, session, io, async (target) => {
      const run: Record<Subcommand, () => Promise<void>> = {
        status: () => status(session, target, io, { watch: !noWatch, timeoutMs: timeoutMs === 0 ? undefined : timeoutMs }),
        history: () => history(session, target, io, revision),
        undo: () => undo(session, target, io, toRevision),
        restart: () => restart(session, target, io),
        pause: () => setPaused(session, target, io, true),
        resume: () => setPaused(session, target, io, false),
      };
      await run[sub as Subcommand]();
    });
  });
};

function getObject(session: Session, target: Target, signal: AbortSignal): Promise<KubeObject> {
  return session.client.resourceFor(target.info, target.namespace).get(target.name, { signal });
}

function notImplemented(what: string, target: Target): CliError {
  return new CliError(CliErrorCode.InvalidArgument, `no ${what} has been implemented for ${qualifiedKind(target.info)}`);
}

function requireDeployment(target: Target, doing: string): void {
  if (target.info.kind !== 'Deployment') throw new CliError(CliErrorCode.InvalidArgument, `${qualifiedResource(target.info)} "${target.name}" ${doing} is not supported`);
}

async function status(session: Session, target: Target, io: VerbIO, options: { watch: boolean; timeoutMs: number | undefined }): Promise<void> {
  const viewer = statusViewer(target.info.kind);
  if (viewer === undefined) throw notImplemented('status viewer', target);
  await getObject(session, target, io.signal); // NotFound in kubectl's words before any waiting.
  let last = '';
  const print = (state: RolloutState): void => {
    if (state.message === last) return;
    last = state.message;
    // On a terminal the waiting line is rewritten in place (\r, erase to end of line); the last one stays.
    if (io.isTTY) io.stdout.write(`\r\x1b[K${state.message}${state.done ? '\n' : ''}`);
    else io.stdout.write(`${state.message}\n`);
  };
  const done = await waitForObject(
    session.client.resourceFor(target.info, target.namespace),
    target.name,
    (object) => {
      if (object === null) throw new CliError(CliErrorCode.InvalidArgument, `${qualifiedResource(target.info)} "${target.name}" was deleted while waiting for its rollout`);
      const state = viewer(object);
      print(state);
      // Without --watch one look is all: kubectl prints the state once and returns.
      return state.done || !options.watch ? state.done : undefined;
    },
    { signal: io.signal, timeoutMs: options.timeoutMs, what: `${qualifiedResource(target.info)}/${target.name}` },
  ).finally(() => {
    if (io.isTTY && last !== '' && !last.endsWith('rolled out')) io.stdout.write('\n');
  });
  if (done !== true && options.watch) throw new CliError(CliErrorCode.InvalidArgument, 'rollout status was interrupted before the rollout finished');
}

async function history(session: Session, target: Target, io: VerbIO, revision: number): Promise<void> {
  if (target.info.kind !== 'Deployment') throw notImplemented('history viewer', target);
  const deployment = (await getObject(session, target, io.signal)) as Deployment;
  const revisions = await revisionsOf(session, deployment, io.signal);
  if (revision > 0) {
    const found = revisions.find((r) => r.revision === revision);
    if (found === undefined) throw new CliError(CliErrorCode.InvalidArgument, `unable to find the specified revision ${revision}`);
    io.stdout.write(`${objectRef(target.info, target.name)} with revision #${revision}\n${revisionTemplate(found.replicaSet)}`);
    return;
  }
  // kubectl's heading ends with a space, and the table with an empty line.
  io.stdout.write(revisions.length === 0 ? 'No rollout history found.\n' : `${objectRef(target.info, target.name)} \n${historyTable(revisions)}\n`);
}

async function undo(session: Session, target: Target, io: VerbIO, toRevision: number): Promise<void> {
  if (target.info.kind !== 'Deployment') throw notImplemented('rollbacker', target);
  const deployment = (await getObject(session, target, io.signal)) as Deployment;
  if (deployment.spec?.paused === true) {
    throw new CliError(CliErrorCode.InvalidArgument, `you cannot rollback a paused deployment; resume it first with 'raftplane rollout resume ${objectRef(target.info, target.name)}' and try again`);
  }
  const found = rollbackTarget(await revisionsOf(session, deployment, io.signal), toRevision, target.name);
  if (typeof found === 'string') throw new CliError(CliErrorCode.InvalidArgument, found);
  const template = templateOf(found.replicaSet);
  if (sameTemplate(template, deployment.spec?.template)) {
    io.stdout.write(`${objectRef(target.info, target.name)} skipped rollback (current template already matches revision ${found.revision})\n`);
    return;
  }
  // A JSON patch, as kubectl sends: replace the template whole (a merge would keep labels the old
  // revision did not have). No resourceVersion test, as in kubectl: the controller's status writes
  // move it all through a rollout, and the template is what undo means to set either way.
  const patch: unknown[] = [{ op: 'replace', path: '/spec/template', value: template }];
  const cause = found.replicaSet.metadata.annotations?.[changeCauseAnnotation];
  if (cause !== undefined) patch.push({ op: 'add', path: '/metadata/annotations', value: { ...deployment.metadata.annotations, [changeCauseAnnotation]: cause } });
  await session.client.resourceFor(target.info, target.namespace).patch(target.name, 'json', patch, { signal: io.signal, fieldManager });
  io.stdout.write(`${objectRef(target.info, target.name)} rolled back\n`);
}

async function restart(session: Session, target: Target, io: VerbIO): Promise<void> {
  if (!['Deployment', 'DaemonSet', 'StatefulSet'].includes(target.info.kind)) requireDeployment(target, 'restarting');
  const object = await getObject(session, target, io.signal);
  if ((object as Deployment).spec?.paused === true) throw new CliError(CliErrorCode.InvalidArgument, `${qualifiedResource(target.info)} "${target.name}" can't restart paused deployment (run rollout resume first)`);
  // RFC 3339 in seconds, as kubectl writes it: a new value is a new template, so new pods.
  const restartedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const patch = { spec: { template: { metadata: { annotations: { [restartedAtAnnotation]: restartedAt } } } } };
  await session.client.resourceFor(target.info, target.namespace).patch(target.name, 'strategic', patch, { signal: io.signal, fieldManager });
  io.stdout.write(`${objectRef(target.info, target.name)} restarted\n`);
}

async function setPaused(session: Session, target: Target, io: VerbIO, paused: boolean): Promise<void> {
  requireDeployment(target, paused ? 'pausing' : 'resuming');
  const deployment = (await getObject(session, target, io.signal)) as Deployment;
  if ((deployment.spec?.paused === true) === paused) {
    throw new CliError(CliErrorCode.InvalidArgument, `${qualifiedResource(target.info)} "${target.name}" is ${paused ? 'already paused' : 'not paused'}`);
  }
  await session.client.resourceFor(target.info, target.namespace).patch(target.name, 'strategic', { spec: { paused } }, { signal: io.signal, fieldManager });
  io.stdout.write(`${objectRef(target.info, target.name)} ${paused ? 'paused' : 'resumed'}\n`);
}
