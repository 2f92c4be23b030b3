// `raftplane describe`: kubectl describe's readable text for pods, nodes, deployments, replica
// sets, daemon sets, stateful sets, jobs, services, endpoints, namespaces, config maps and secrets
// (each with the objects it needs: a node's Lease and pods, a deployment's ReplicaSets, a
// workload's pods, a service's endpoints), a generic form for every other kind, and the object's
// events at the end.

import { isStatusError, labelSelectorObjectToString, resourceByName, type ConfigMap, type DaemonSet, type Deployment, type Endpoints, type Event, type Job, type KubeObject, type LabelSelector, type Lease, type Namespace, type Node, type Pod, type ReplicaSet, type ResourceInfo, type Secret, type Service, type StatefulSet } from '@raftplane/api';
import { CliError, CliErrorCode, invalidFlag } from '../errors.js';
import { describeStatus } from './api-errors.js';
import { toYaml } from './printing.js';
import { describeConfigMap, describeDeployment, describeEndpoints, describeNamespace, describeReplicaSet, describeSecret, describeService } from './read-describe-kinds.js';
import { describeNode } from './read-describe-node.js';
import { describeDaemonSet, describeJob, describeStatefulSet } from './read-describe-workloads.js';
import { describePod } from './read-describe-pod.js';
import { describeEvents, describeMeta, DescribeText } from './read-describe-text.js';
import { parseReadArgs, printedHelp, stringFlag, verbUsage, type ReadFlag } from './read-flags.js';
import { parseResourceArgs } from './resource-words.js';
import { withSession, type Session, type Verb } from './session.js';

const flags: readonly ReadFlag[] = [
  { name: 'show-events', type: 'boolean', fallback: 'true', text: 'end with the events about each object; --show-events=false leaves them out' },
  { name: 'selector', short: 'l', type: 'string', value: '<selector>', fallback: 'none', text: 'describe every object of the type with these labels' },
  { name: 'all-namespaces', short: 'A', type: 'boolean', fallback: 'false', text: 'look in every namespace (with a type, or a type and -l)' },
];

export const describeUsage = verbUsage(
  {
    usage: ['raftplane describe <type> <name-or-prefix>... [flags]', 'raftplane describe <type>/<name>... [flags]', 'raftplane describe <type> [-l <selector>] [flags]'],
    summary: ['Shows one or more objects in detail, as kubectl describe does, with their events.', 'A name that matches no object describes every object whose name starts with it.'],
    examples: ['raftplane describe pod web-1', 'raftplane describe deploy/web', 'raftplane describe nodes', 'raftplane describe pods -l app=web'],
  },
  flags,
);

const podsInfo = resourceByName('', 'pods') as ResourceInfo;
const eventsInfo = resourceByName('', 'events') as ResourceInfo;
const replicaSetsInfo = resourceByName('apps', 'replicasets') as ResourceInfo;
const endpointsInfo = resourceByName('', 'endpoints') as ResourceInfo;
const leasesInfo = resourceByName('coordination.k8s.io', 'leases') as ResourceInfo;

/** `--show-events=false` as kubectl spells it: node's parseArgs takes no value for a boolean. */
function splitShowEvents(argv: readonly string[]): { rest: string[]; showEvents: boolean } {
  let showEvents = true;
  const rest: string[] = [];
  for (const arg of argv) {
    const match = /^--show-events(?:=(.*))?$/.exec(arg);
    if (match === null) rest.push(arg);
    else if (match[1] === undefined || match[1] === 'true') showEvents = true;
    else if (match[1] === 'false') showEvents = false;
    else throw invalidFlag('show-events', `must be true or false, got ${JSON.stringify(match[1])}`);
  }
  return { rest, showEvents };
}

export const describeVerb: Verb = async (argv, io) => {
  const { rest, showEvents } = splitShowEvents(argv);
  const { values, positionals } = parseReadArgs('describe', rest, flags);
  if (printedHelp(values, io, describeUsage)) return 0;
  const targets = parseResourceArgs(positionals);
  if (targets.length === 0) throw new CliError(CliErrorCode.InvalidArgument, 'You must specify the type of resource to describe. Use "raftplane api-resources" for a complete list of supported resources.');
  const selector = stringFlag(values, 'selector');
  if (selector !== undefined && targets.some((t) => t.name !== undefined)) throw new CliError(CliErrorCode.InvalidArgument, 'name cannot be provided when a selector is specified');
  const allNamespaces = values['all-namespaces'] === true;
  return withSession(values, io, async (session) => {
    const texts: string[] = [];
    const errors: string[] = [];
    for (const { info, name } of targets) {
      const namespace = allNamespaces && name === undefined ? undefined : session.namespace;
      try {
        const objects = await objectsFor(session, info, namespace, name, selector, io.signal);
        for (const obj of objects) texts.push(await describeObject(session, info, obj, showEvents, io.signal));
      } catch (error) {
        if (!isStatusError(error) || (error.status.reason !== 'NotFound' && error.status.reason !== 'Forbidden')) throw error;
        errors.push(describeStatus(error.status));
      }
    }
    // kubectl separates descriptions with two blank lines.
    if (texts.length > 0) io.stdout.write(texts.join('\n\n'));
    else if (errors.length === 0) io.stderr.write(`No resources found${allNamespaced(targets) && !allNamespaces ? ` in ${session.namespace} namespace.` : ''}\n`);
    for (const line of errors) io.stderr.write(`${line}\n`);
    return errors.length === 0 ? 0 : 1;
  });
};

function allNamespaced(targets: readonly { info: ResourceInfo }[]): boolean {
  return targets.every((t) => t.info.namespaced);
}

/** The named object; else (kubectl's fallback) every object whose name starts with `name`; or the list. */
async function objectsFor(session: Session, info: ResourceInfo, namespace: string | undefined, name: string | undefined, selector: string | undefined, signal: AbortSignal): Promise<KubeObject[]> {
  const resource = session.client.resourceFor(info, namespace);
  if (name === undefined) return (await resource.listAll({ labelSelector: selector, signal })).items;
  try {
    return [await resource.get(name, { signal })];
  } catch (error) {
    if (!isStatusError(error) || error.status.reason !== 'NotFound') throw error;
    const prefixed = (await resource.listAll({ signal })).items.filter((o) => (o.metadata.name ?? '').startsWith(name));
    if (prefixed.length === 0) throw error;
    return prefixed;
  }
}

/** The events about `obj`, by the field selectors the apiserver serves for events; none when they cannot be read. */
async function eventsFor(session: Session, info: ResourceInfo, obj: KubeObject, signal: AbortSignal): Promise<Event[]> {
  const fields = [`involvedObject.name=${obj.metadata.name ?? ''}`, `involvedObject.kind=${info.kind}`];
  if (info.namespaced) fields.push(`involvedObject.namespace=${obj.metadata.namespace ?? ''}`);
  // The uid, as kubectl's search: not the events of an earlier object of the same name.
  if (obj.metadata.uid) fields.push(`involvedObject.uid=${obj.metadata.uid}`);
  try {
    // A cluster-scoped object's events may be in any namespace (a node's are in default).
    const events = session.client.resourceFor(eventsInfo, info.namespaced ? obj.metadata.namespace : undefined);
    return (await events.listAll({ fieldSelector: fields.join(','), signal })).items as Event[];
  } catch (error) {
    // kubectl describes the object even when its events cannot be read.
    if (isStatusError(error)) return [];
    throw error;
  }
}

async function describeObject(session: Session, info: ResourceInfo, obj: KubeObject, showEvents: boolean, signal: AbortSignal): Promise<string> {
  const events = showEvents ? await eventsFor(session, info, obj, signal) : undefined;
  const now = Date.now();
  const name = obj.metadata.name ?? '';
  const namespace = obj.metadata.namespace;
  switch (`${info.group}/${info.kind}`) {
    case '/Pod':
      return describePod(obj as Pod, events, now);
    case '/Node': {
      const pods = await session.client.resourceFor(podsInfo, undefined).listAll({ fieldSelector: `spec.nodeName=${name}`, signal });
      return describeNode(obj as Node, await nodeLease(session, name, signal), pods.items as Pod[], events, now);
    }
    case 'apps/Deployment': {
      const deployment = obj as Deployment;
      const selector = labelSelectorObjectToString(deployment.spec?.selector);
      const sets = await session.client.resourceFor(replicaSetsInfo, namespace).listAll({ labelSelector: selector === '' ? undefined : selector, signal });
      const owned = (sets.items as ReplicaSet[]).filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === deployment.metadata.uid));
      return describeDeployment(deployment, owned, events, now);
    }
    case '/Service': {
      const endpoints = await session.client.resourceFor(endpointsInfo, namespace).get(name, { signal }).catch((error: unknown) => {
        if (isStatusError(error) && error.status.reason === 'NotFound') return undefined;
        throw error;
      });
      return describeService(obj as Service, endpoints as Endpoints | undefined, events, now);
    }
    case 'apps/ReplicaSet':
      return describeReplicaSet(obj as ReplicaSet, await ownedPods(session, obj, signal), events, now);
    case 'apps/DaemonSet':
      return describeDaemonSet(obj as DaemonSet, await ownedPods(session, obj, signal), events, now);
    case 'apps/StatefulSet':
      return describeStatefulSet(obj as StatefulSet, await ownedPods(session, obj, signal), events, now);
    case 'batch/Job':
      return describeJob(obj as Job, events, now);
    case '/Endpoints':
      return describeEndpoints(obj as Endpoints, events, now);
    case '/Namespace':
      return describeNamespace(obj as Namespace);
    case '/ConfigMap':
      return describeConfigMap(obj as ConfigMap, events, now);
    case '/Secret':
      return describeSecret(obj as Secret, events, now);
    default:
      return describeGeneric(info, obj, events, now);
  }
}

/** The pods a workload owns: those its selector picks that name it as their owner. */
async function ownedPods(session: Session, obj: KubeObject, signal: AbortSignal): Promise<Pod[]> {
  const selector = labelSelectorObjectToString((obj as KubeObject & { spec?: { selector?: LabelSelector } }).spec?.selector);
  const pods = await session.client.resourceFor(podsInfo, obj.metadata.namespace).listAll({ labelSelector: selector === '' ? undefined : selector, signal });
  return (pods.items as Pod[]).filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === obj.metadata.uid));
}

/** The node's heartbeat Lease in kube-node-lease, or why it could not be read (kubectl prints that instead). */
async function nodeLease(session: Session, name: string, signal: AbortSignal): Promise<Lease | string> {
  try {
    return (await session.client.resourceFor(leasesInfo, 'kube-node-lease').get(name, { signal })) as Lease;
  } catch (error) {
    if (isStatusError(error)) return error.status.message ?? error.message;
    throw error;
  }
}

/** Any other kind: its metadata, the rest of the object as YAML, and its events. */
function describeGeneric(info: ResourceInfo, obj: KubeObject, events: readonly Event[] | undefined, nowMs: number): string {
  const text = new DescribeText();
  describeMeta(text, obj.metadata, info.namespaced);
  text.line(0, 'API Version:', obj.apiVersion ?? '');
  text.line(0, 'Kind:', obj.kind ?? info.kind);
  const { apiVersion: _apiVersion, kind: _kind, metadata: _metadata, ...rest } = obj as KubeObject & Record<string, unknown>;
  if (Object.keys(rest).length > 0) {
    // Tabs would be read as column breaks: YAML never needs one to be valid.
    for (const line of toYaml(rest).trimEnd().split('\n')) text.line(0, line.replaceAll('\t', '    '));
  }
  describeEvents(text, events, nowMs);
  return text.toString();
}
