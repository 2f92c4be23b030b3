// Pure translation between the runtime's types and the Engine API's: container names, labels, the
// create body, and an inspected container back into a RuntimeContainer. No I/O here, so every rule
// is tested without an engine.

import { AgentError, AgentErrorCode } from '../errors.js';
import type { ContainerLabels, ContainerStartSpec, ContainerState, RuntimeContainer } from './runtime.js';

/** Every label key the runtime writes starts with this. */
export const LABEL_PREFIX = 'io.raftplane.';

/** One Docker label per ContainerLabels field; `node` is the one list and events filter on. */
export const DockerLabel = {
  nodeName: 'io.raftplane.node',
  podUid: 'io.raftplane.pod.uid',
  podNamespace: 'io.raftplane.pod.namespace',
  podName: 'io.raftplane.pod.name',
  containerName: 'io.raftplane.container.name',
  attempt: 'io.raftplane.attempt',
} as const satisfies Record<keyof ContainerLabels, string>;

export type PodNetwork = 'host' | 'bridge';

/** Each part of a container name is cut to this, so names stay readable in `docker ps`. */
const NAME_PART_CHARS_MAX = 40;

/** The part of `docker inspect` the runtime reads. */
export interface DockerInspect {
  readonly Id: string;
  readonly Created: string;
  readonly Image: string;
  readonly State: {
    readonly Status: string;
    readonly OOMKilled: boolean;
    readonly ExitCode: number;
    readonly Error: string;
    readonly StartedAt: string;
    readonly FinishedAt: string;
    readonly Pid: number;
  };
  readonly Config: {
    readonly Image: string;
    readonly Labels: Readonly<Record<string, string>> | null;
  };
}

/** `rp_<node>_<ns>_<pod>_<container>_<attempt>_<suffix>`: readable, and unique through the random suffix. */
export function containerName(labels: ContainerLabels, suffix: string): string {
  const parts = [labels.nodeName, labels.podNamespace, labels.podName, labels.containerName].map(namePart);
  return ['rp', ...parts, String(labels.attempt), namePart(suffix)].join('_');
}

/** Docker names allow [a-zA-Z0-9_.-]; Kubernetes names already fit, anything else becomes '-'. */
function namePart(text: string): string {
  return text.replace(/[^a-zA-Z0-9.-]/g, '-').slice(0, NAME_PART_CHARS_MAX);
}

export function dockerLabels(labels: ContainerLabels): Record<string, string> {
  return {
    [DockerLabel.nodeName]: labels.nodeName,
    [DockerLabel.podUid]: labels.podUid,
    [DockerLabel.podNamespace]: labels.podNamespace,
    [DockerLabel.podName]: labels.podName,
    [DockerLabel.containerName]: labels.containerName,
    [DockerLabel.attempt]: String(labels.attempt),
  };
}

/** The labels back, or undefined when any is missing or malformed (not a container of ours). */
export function labelsFromDocker(labels: Readonly<Record<string, string>> | null | undefined): ContainerLabels | undefined {
  if (labels === null || labels === undefined) return undefined;
  const attemptText = labels[DockerLabel.attempt];
  const attempt = attemptText !== undefined && /^(0|[1-9][0-9]{0,8})$/.test(attemptText) ? Number(attemptText) : undefined;
  const nodeName = labels[DockerLabel.nodeName];
  const podUid = labels[DockerLabel.podUid];
  const podNamespace = labels[DockerLabel.podNamespace];
  const podName = labels[DockerLabel.podName];
  const containerName = labels[DockerLabel.containerName];
  if (attempt === undefined || nodeName === undefined || podUid === undefined || podNamespace === undefined || podName === undefined || containerName === undefined) {
    return undefined;
  }
  return { nodeName, podUid, podNamespace, podName, containerName, attempt };
}

/** The body of POST /containers/create; a spec Docker cannot express is CreateContainerConfig. */
export function createBody(spec: ContainerStartSpec, podNetwork: PodNetwork): Record<string, unknown> {
  const env = { ...spec.env };
  // The interface promises $POD_IP; the agent normally resolves it already, and wins when it does.
  env['POD_IP'] ??= spec.podIP;
  for (const key of Object.keys(env)) {
    if (key === '' || key.includes('=')) configError(spec, `environment variable name ${JSON.stringify(key)} cannot be passed to Docker`);
  }
  const binds = spec.mounts.map((mount) => {
    for (const path of [mount.hostPath, mount.containerPath]) {
      // Binds is `host:container[:ro]`: a ':' inside a path would be read as a separator.
      if (!path.startsWith('/') || path.includes(':')) configError(spec, `mount path ${JSON.stringify(path)} must be absolute and contain no ':'`);
    }
    return `${mount.hostPath}:${mount.containerPath}${mount.readOnly ? ':ro' : ''}`;
  });
  const hostConfig: Record<string, unknown> = {
    // Host networking keeps every byte on loopback: the pod binds its own 127.x address (DESIGN).
    NetworkMode: podNetwork,
    Binds: binds,
    // Kubernetes runs the image's entrypoint as PID 1 itself; signals go straight to it.
    Init: false,
  };
  if (spec.cpuMillis !== undefined) hostConfig['NanoCpus'] = spec.cpuMillis * 1_000_000;
  if (spec.memoryBytes !== undefined) {
    hostConfig['Memory'] = spec.memoryBytes;
    // As the kubelet does: no swap beyond the limit, so the limit is what the container gets.
    hostConfig['MemorySwap'] = spec.memoryBytes;
  }
  const body: Record<string, unknown> = {
    Image: spec.image,
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    Labels: dockerLabels(spec.labels),
    WorkingDir: spec.workingDir ?? '',
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    HostConfig: hostConfig,
  };
  // Kubernetes: `command` replaces the image's ENTRYPOINT (and with it the image's CMD, as Docker
  // does once Entrypoint is set); `args` replaces CMD. An empty list counts as not given.
  if (spec.command !== undefined && spec.command.length > 0) body['Entrypoint'] = [...spec.command];
  if (spec.args !== undefined && spec.args.length > 0) body['Cmd'] = [...spec.args];
  return body;
}

function configError(spec: ContainerStartSpec, problem: string): never {
  const { podNamespace, podName, containerName } = spec.labels;
  throw new AgentError(AgentErrorCode.CreateContainerConfig, `${podNamespace}/${podName} container ${containerName}: ${problem}`);
}

/**
 * Docker's times are RFC 3339 with nanoseconds; "0001-01-01T00:00:00Z" (Go's zero time) means never.
 * Date.parse is given at most milliseconds, the precision the runtime reports.
 */
export function parseDockerTime(text: string | undefined): number | undefined {
  if (text === undefined || text === '' || text.startsWith('0001-01-01')) return undefined;
  const trimmed = text.replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(trimmed);
  return Number.isFinite(ms) ? ms : undefined;
}

export function containerState(status: string): ContainerState {
  switch (status) {
    case 'created':
      return 'created';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'running';
    default:
      // exited, dead, removing: the process is gone.
      return 'exited';
  }
}

/** An inspected container of ours as the agent sees it; `imageId` is resolved by the caller. */
export function toRuntimeContainer(inspect: DockerInspect, labels: ContainerLabels, imageId: string): RuntimeContainer {
  const state = containerState(inspect.State.Status);
  const exited = state === 'exited';
  const exitCode = exited ? inspect.State.ExitCode : undefined;
  let reason: string | undefined;
  if (exited) reason = inspect.State.OOMKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
  const createdAt = parseDockerTime(inspect.Created);
  if (createdAt === undefined) throw unexpected(`container ${inspect.Id} has no creation time (${JSON.stringify(inspect.Created)})`);
  const startedAt = parseDockerTime(inspect.State.StartedAt);
  let finishedAt = exited ? parseDockerTime(inspect.State.FinishedAt) : undefined;
  // The engine stamps StartedAt once its start call returns, and a process that exits at once can
  // be stamped finished a moment before that: a container never ends before it starts.
  if (finishedAt !== undefined && startedAt !== undefined && finishedAt < startedAt) finishedAt = startedAt;
  return {
    id: inspect.Id,
    labels,
    image: inspect.Config.Image,
    imageId,
    state,
    createdAt,
    startedAt,
    finishedAt,
    exitCode,
    reason,
    message: inspect.State.Error === '' ? undefined : inspect.State.Error,
  };
}

/** Whether an answer has the fields toRuntimeContainer reads: the engine is the world, so it is checked. */
export function isDockerInspect(value: unknown): value is DockerInspect {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const state = record['State'] as Record<string, unknown> | undefined;
  const config = record['Config'] as Record<string, unknown> | undefined;
  return (
    typeof record['Id'] === 'string' &&
    typeof record['Created'] === 'string' &&
    typeof record['Image'] === 'string' &&
    typeof state === 'object' &&
    state !== null &&
    typeof state['Status'] === 'string' &&
    typeof state['ExitCode'] === 'number' &&
    typeof config === 'object' &&
    config !== null &&
    typeof config['Image'] === 'string'
  );
}

export function unexpected(problem: string): AgentError {
  return new AgentError(AgentErrorCode.RuntimeUnavailable, `unexpected answer from the Docker engine: ${problem}`);
}
