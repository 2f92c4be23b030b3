// The docker runtime's pure translations, without an engine: names, labels, the create body,
// inspected state, image references, log queries and event timestamps.

import { describe, expect, it } from 'vitest';
import { AgentErrorCode, isAgentError } from '../src/errors.js';
import {
  containerName,
  createBody,
  dockerLabels,
  labelsFromDocker,
  parseDockerTime,
  toRuntimeContainer,
  type DockerInspect,
} from '../src/runtime/docker-container.js';
import { dockerTimestamp } from '../src/runtime/docker-events.js';
import { checkReference, imageIdFor, pullParameters } from '../src/runtime/docker-image.js';
import { logQuery } from '../src/runtime/docker-logs.js';
import type { ContainerLabels, ContainerStartSpec } from '../src/runtime/runtime.js';

const labels: ContainerLabels = { nodeName: 'node-1', podUid: 'uid-1', podNamespace: 'default', podName: 'web-0', containerName: 'app', attempt: 2 };

function spec(overrides: Partial<ContainerStartSpec> = {}): ContainerStartSpec {
  return {
    labels,
    image: 'raftplane/busybox:test',
    command: undefined,
    args: undefined,
    env: {},
    workingDir: undefined,
    mounts: [],
    podIP: '127.1.1.2',
    cpuMillis: undefined,
    memoryBytes: undefined,
    podDir: '/tmp/pods/uid-1',
    ...overrides,
  };
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('container names and labels', () => {
  it('names a container rp_<node>_<ns>_<pod>_<container>_<attempt>_<suffix>, in Docker name characters', () => {
    expect(containerName(labels, 'a1b2c3')).toBe('rp_node-1_default_web-0_app_2_a1b2c3');
    const odd = containerName({ ...labels, podName: 'we/b:0 x' }, 'ff');
    expect(odd).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
  });

  it('round-trips every ContainerLabels field through io.raftplane.* labels', () => {
    const docker = dockerLabels(labels);
    expect(Object.keys(docker).every((key) => key.startsWith('io.raftplane.'))).toBe(true);
    expect(docker['io.raftplane.node']).toBe('node-1');
    expect(labelsFromDocker({ ...docker, 'com.example.other': 'x' })).toEqual(labels);
  });

  it('reads a container with a missing or malformed label as not ours', () => {
    const docker = dockerLabels(labels);
    const { ['io.raftplane.pod.uid']: _uid, ...withoutUid } = docker;
    expect(labelsFromDocker(withoutUid)).toBeUndefined();
    expect(labelsFromDocker({ ...docker, 'io.raftplane.attempt': '-1' })).toBeUndefined();
    expect(labelsFromDocker({ ...docker, 'io.raftplane.attempt': '01' })).toBeUndefined();
    expect(labelsFromDocker(null)).toBeUndefined();
  });
});

describe('the create body', () => {
  it('sets command as Entrypoint and args as Cmd, and leaves the image its own when they are absent or empty', () => {
    const both = createBody(spec({ command: ['sh', '-c'], args: ['echo hi'] }), 'host');
    expect(both['Entrypoint']).toEqual(['sh', '-c']);
    expect(both['Cmd']).toEqual(['echo hi']);
    const neither = createBody(spec({ command: [], args: undefined }), 'host');
    expect(neither).not.toHaveProperty('Entrypoint');
    expect(neither).not.toHaveProperty('Cmd');
  });

  it('passes env as KEY=VALUE with POD_IP added unless given, and the working dir', () => {
    const body = createBody(spec({ env: { A: 'x=y' }, workingDir: '/www' }), 'host');
    expect(body['Env']).toEqual(['A=x=y', 'POD_IP=127.1.1.2']);
    expect(body['WorkingDir']).toBe('/www');
    expect(createBody(spec({ env: { POD_IP: '127.9.9.9' } }), 'host')['Env']).toEqual(['POD_IP=127.9.9.9']);
  });

  it('asks for host networking, bind mounts, CPU and memory limits, and no init', () => {
    const body = createBody(
      spec({
        mounts: [
          { hostPath: '/var/pods/a', containerPath: '/data', readOnly: false },
          { hostPath: '/var/pods/b', containerPath: '/config', readOnly: true },
        ],
        cpuMillis: 250,
        memoryBytes: 64 * 1024 * 1024,
      }),
      'host',
    );
    expect(body['HostConfig']).toEqual({
      NetworkMode: 'host',
      Binds: ['/var/pods/a:/data', '/var/pods/b:/config:ro'],
      Init: false,
      NanoCpus: 250_000_000,
      Memory: 64 * 1024 * 1024,
      MemorySwap: 64 * 1024 * 1024,
    });
    expect(body['Labels']).toEqual(dockerLabels(labels));
  });

  it('refuses, as CreateContainerConfig, what Binds and Env cannot say', () => {
    const colon = thrownBy(() => createBody(spec({ mounts: [{ hostPath: '/a:b', containerPath: '/data', readOnly: false }] }), 'host'));
    expect(isAgentError(colon, AgentErrorCode.CreateContainerConfig)).toBe(true);
    const relative = thrownBy(() => createBody(spec({ mounts: [{ hostPath: '/a', containerPath: 'data', readOnly: false }] }), 'host'));
    expect(isAgentError(relative, AgentErrorCode.CreateContainerConfig)).toBe(true);
    const env = thrownBy(() => createBody(spec({ env: { 'A=B': 'c' } }), 'host'));
    expect(isAgentError(env, AgentErrorCode.CreateContainerConfig)).toBe(true);
  });
});

describe('inspected containers', () => {
  function inspect(state: Partial<DockerInspect['State']>): DockerInspect {
    return {
      Id: 'c1',
      Created: '2026-11-26T21:00:00.123456789Z',
      Image: 'sha256:abc',
      State: { Status: 'running', OOMKilled: false, ExitCode: 0, Error: '', StartedAt: '2026-11-26T21:00:01.5Z', FinishedAt: '0001-01-01T00:00:00Z', Pid: 42, ...state },
      Config: { Image: 'raftplane/busybox:test', Labels: dockerLabels(labels) },
    };
  }

  it('parses Docker times to milliseconds, and Go zero time as unset', () => {
    expect(parseDockerTime('2026-11-26T21:00:00.123456789Z')).toBe(Date.parse('2026-11-26T21:00:00.123Z'));
    expect(parseDockerTime('2026-11-26T21:00:00Z')).toBe(Date.parse('2026-11-26T21:00:00Z'));
    expect(parseDockerTime('0001-01-01T00:00:00Z')).toBeUndefined();
    expect(parseDockerTime('')).toBeUndefined();
  });

  it('maps a running container, with no exit fields', () => {
    const container = toRuntimeContainer(inspect({}), labels, 'sha256:abc');
    expect(container).toMatchObject({ id: 'c1', state: 'running', image: 'raftplane/busybox:test', imageId: 'sha256:abc', startedAt: Date.parse('2026-11-26T21:00:01.5Z') });
    expect(container.finishedAt).toBeUndefined();
    expect(container.exitCode).toBeUndefined();
    expect(container.reason).toBeUndefined();
  });

  it('gives an exited container its code and reason: Completed, Error, OOMKilled', () => {
    const finished = { Status: 'exited', FinishedAt: '2026-11-26T21:00:02Z' };
    expect(toRuntimeContainer(inspect({ ...finished, ExitCode: 0 }), labels, '')).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed', finishedAt: Date.parse('2026-11-26T21:00:02Z') });
    expect(toRuntimeContainer(inspect({ ...finished, ExitCode: 3 }), labels, '')).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(toRuntimeContainer(inspect({ ...finished, ExitCode: 137, OOMKilled: true }), labels, '')).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(toRuntimeContainer(inspect({ ...finished, ExitCode: 127, Error: 'exec: "nope": not found' }), labels, '').message).toBe('exec: "nope": not found');
  });

  it('never reports a container finished before it started (the engine stamps StartedAt late)', () => {
    const quick = toRuntimeContainer(inspect({ Status: 'exited', StartedAt: '2026-11-26T21:00:01.500Z', FinishedAt: '2026-11-26T21:00:01.499Z' }), labels, '');
    expect(quick.finishedAt).toBe(quick.startedAt);
  });

  it('maps a created container that never started', () => {
    const container = toRuntimeContainer(inspect({ Status: 'created', StartedAt: '0001-01-01T00:00:00Z' }), labels, '');
    expect(container.state).toBe('created');
    expect(container.startedAt).toBeUndefined();
  });
});

describe('image references', () => {
  it('splits a reference into fromImage and tag, defaulting to latest, keeping a registry port', () => {
    expect(pullParameters('busybox')).toEqual({ fromImage: 'busybox', tag: 'latest' });
    expect(pullParameters('raftplane/busybox:test')).toEqual({ fromImage: 'raftplane/busybox', tag: 'test' });
    expect(pullParameters('127.0.0.1:5000/app')).toEqual({ fromImage: '127.0.0.1:5000/app', tag: 'latest' });
    expect(pullParameters('127.0.0.1:5000/app:v2')).toEqual({ fromImage: '127.0.0.1:5000/app', tag: 'v2' });
    expect(pullParameters('app@sha256:abcd')).toEqual({ fromImage: 'app', tag: 'sha256:abcd' });
  });

  it('refuses a reference Docker could not parse, as ImagePull', () => {
    expect(isAgentError(thrownBy(() => checkReference('bad image')), AgentErrorCode.ImagePull)).toBe(true);
    expect(isAgentError(thrownBy(() => checkReference('../x')), AgentErrorCode.ImagePull)).toBe(true);
    expect(thrownBy(() => checkReference('127.0.0.1:5000/app:v2'))).toBeUndefined();
  });

  it('shows docker-pullable://repo@digest for a pulled image and the id for a local one', () => {
    expect(imageIdFor({ Id: 'sha256:1', RepoDigests: ['app@sha256:2'] })).toBe('docker-pullable://app@sha256:2');
    expect(imageIdFor({ Id: 'sha256:1', RepoDigests: [] })).toBe('sha256:1');
    expect(imageIdFor({ Id: 'sha256:1', RepoDigests: null })).toBe('sha256:1');
  });
});

describe('log queries and event timestamps', () => {
  const signal = new AbortController().signal;

  it('asks for both streams, all lines unless a tail is given, and since in seconds with nanoseconds', () => {
    expect(logQuery({ follow: false, tailLines: undefined, sinceMs: undefined, timestamps: false, signal })).toEqual({ stdout: 1, stderr: 1, follow: 0, tail: 'all', since: undefined, timestamps: 0 });
    expect(logQuery({ follow: true, tailLines: 5, sinceMs: 1_700_000_000_123, timestamps: true, signal })).toEqual({ stdout: 1, stderr: 1, follow: 1, tail: 5, since: '1700000000.123000000', timestamps: 1 });
  });

  it('writes an event time as seconds.nanoseconds without losing digits', () => {
    expect(dockerTimestamp(1_795_728_534_480_123_457n)).toBe('1795728534.480123457');
    expect(dockerTimestamp(1_000_000_000_000_000_001n)).toBe('1000000000.000000001');
  });
});
