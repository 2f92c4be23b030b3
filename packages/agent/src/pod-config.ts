// What a container is started with beyond its image and command: its environment (literal values,
// the pod's own fields, ConfigMaps and Secrets, and POD_IP) and its volumes (emptyDir, hostPath,
// configMap, secret), laid out under the pod's directory. A reference that cannot be resolved (a
// missing ConfigMap or key that is not optional) is Kubernetes' CreateContainerConfigError: the
// container is not started and the agent tries again later.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { hasStatusReason, type ConfigMap, type Container, type Pod, type Secret } from '@raftplane/api';
import { AgentError, AgentErrorCode } from './errors.js';
import type { VolumeMount } from './runtime/runtime.js';

/** Reads ConfigMaps and Secrets of the pod's namespace; null when there is none by that name. */
export interface ConfigSource {
  configMap(namespace: string, name: string): Promise<ConfigMap | null>;
  secret(namespace: string, name: string): Promise<Secret | null>;
}

export function configError(message: string): AgentError {
  return new AgentError(AgentErrorCode.CreateContainerConfig, message);
}

/** A ConfigSource reading through the API (each read is a GET: kubelets watch; we read at start). */
export function apiConfigSource(client: { resource(name: 'configmaps' | 'secrets', namespace: string): { get(name: string): Promise<unknown> } }): ConfigSource {
  const read = async <T>(resource: 'configmaps' | 'secrets', namespace: string, name: string): Promise<T | null> => {
    try {
      return (await client.resource(resource, namespace).get(name)) as T;
    } catch (error) {
      if (hasStatusReason(error, 'NotFound')) return null;
      throw error;
    }
  };
  return { configMap: (ns, name) => read<ConfigMap>('configmaps', ns, name), secret: (ns, name) => read<Secret>('secrets', ns, name) };
}

function secretData(secret: Secret): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = Buffer.from(value, 'base64').toString('utf8');
  return { ...data, ...secret.stringData };
}

/** A pod field by its fieldRef path (the ones the downward API offers). */
function podField(pod: Pod, path: string, podIP: string | undefined, hostIP: string): string | undefined {
  const meta = pod.metadata;
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed !== null) return (keyed[1] === 'labels' ? meta.labels : meta.annotations)?.[keyed[2] ?? ''];
  switch (path) {
    case 'metadata.name':
      return meta.name;
    case 'metadata.namespace':
      return meta.namespace;
    case 'metadata.uid':
      return meta.uid;
    case 'spec.nodeName':
      return pod.spec?.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.hostIP':
      return hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return podIP;
    default:
      return undefined;
  }
}

/** Kubernetes' `$(VAR)` expansion: defined names are replaced, `$$` escapes, unknown ones stay as written. */
export function expandVariables(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && Object.hasOwn(env, name) ? (env[name] ?? '') : match;
  });
}

export interface EnvironmentInput {
  readonly pod: Pod;
  readonly container: Container;
  readonly podIP: string;
  readonly hostIP: string;
  readonly source: ConfigSource;
}

/** The container's environment, in Kubernetes' order: envFrom, then env (later wins), then POD_IP. */
export async function containerEnvironment(input: EnvironmentInput): Promise<Record<string, string>> {
  const { pod, container, podIP, hostIP, source } = input;
  const namespace = pod.metadata.namespace ?? 'default';
  const where = `container ${container.name} of pod ${namespace}/${pod.metadata.name}`;
  const env: Record<string, string> = { HOSTNAME: pod.metadata.name ?? '' };
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef !== undefined) {
      const map = await source.configMap(namespace, from.configMapRef.name ?? '');
      if (map === null && from.configMapRef.optional !== true) throw configError(`configmap "${from.configMapRef.name}" not found (envFrom of ${where})`);
      for (const [key, value] of Object.entries(map?.data ?? {})) env[prefix + key] = value;
    }
    if (from.secretRef !== undefined) {
      const secret = await source.secret(namespace, from.secretRef.name ?? '');
      if (secret === null && from.secretRef.optional !== true) throw configError(`secret "${from.secretRef.name}" not found (envFrom of ${where})`);
      if (secret !== null) for (const [key, value] of Object.entries(secretData(secret))) env[prefix + key] = value;
    }
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (from === undefined) {
      env[variable.name] = expandVariables(variable.value ?? '', env);
      continue;
    }
    if (from.fieldRef !== undefined) {
      const value = podField(pod, from.fieldRef.fieldPath, podIP, hostIP);
      if (value === undefined) throw configError(`env ${variable.name} of ${where}: unsupported fieldRef ${JSON.stringify(from.fieldRef.fieldPath)}`);
      env[variable.name] = value;
    } else if (from.configMapKeyRef !== undefined) {
      const ref = from.configMapKeyRef;
      const map = await source.configMap(namespace, ref.name ?? '');
      const value = map?.data?.[ref.key];
      if (value !== undefined) env[variable.name] = value;
      else if (ref.optional !== true) throw configError(map === null ? `configmap "${ref.name}" not found (env ${variable.name} of ${where})` : `couldn't find key ${ref.key} in ConfigMap ${namespace}/${ref.name} (env ${variable.name} of ${where})`);
    } else if (from.secretKeyRef !== undefined) {
      const ref = from.secretKeyRef;
      const secret = await source.secret(namespace, ref.name ?? '');
      const value = secret === null ? undefined : secretData(secret)[ref.key];
      if (value !== undefined) env[variable.name] = value;
      else if (ref.optional !== true) throw configError(secret === null ? `secret "${ref.name}" not found (env ${variable.name} of ${where})` : `couldn't find key ${ref.key} in Secret ${namespace}/${ref.name} (env ${variable.name} of ${where})`);
    } else if (from.resourceFieldRef !== undefined) {
      const [kind, resource] = from.resourceFieldRef.resource.split('.');
      const value = (kind === 'limits' ? container.resources?.limits : container.resources?.requests)?.[resource ?? ''];
      env[variable.name] = value === undefined ? '0' : String(value);
    }
  }
  env.POD_IP = podIP;
  return env;
}

/** Writes `files` into `dir` (replacing what was there): a configMap or secret volume. */
async function writeVolumeFiles(dir: string, files: Record<string, string>, where: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    const target = normalize(join(dir, path));
    if (!target.startsWith(`${dir}/`)) throw configError(`${where}: item path ${JSON.stringify(path)} leaves the volume`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
}

function selectItems(data: Record<string, string>, items: readonly { key: string; path: string }[] | undefined, missing: (key: string) => AgentError): Record<string, string> {
  if (items === undefined || items.length === 0) return { ...data };
  const files: Record<string, string> = {};
  for (const item of items) {
    const value = data[item.key];
    if (value === undefined) throw missing(item.key);
    files[item.path] = value;
  }
  return files;
}

/** Prepares every volume of the pod under `<podDir>/volumes/`, and returns each one's host path by name. */
export async function preparePodVolumes(pod: Pod, podDir: string, source: ConfigSource): Promise<Map<string, string>> {
  const namespace = pod.metadata.namespace ?? 'default';
  const paths = new Map<string, string>();
  for (const volume of pod.spec?.volumes ?? []) {
    const dir = join(podDir, 'volumes', volume.name);
    const where = `volume ${volume.name} of pod ${namespace}/${pod.metadata.name}`;
    if (volume.hostPath !== undefined) {
      if (volume.hostPath.type === 'DirectoryOrCreate') await mkdir(volume.hostPath.path, { recursive: true });
      paths.set(volume.name, volume.hostPath.path);
    } else if (volume.configMap !== undefined) {
      const ref = volume.configMap;
      const map = await source.configMap(namespace, ref.name ?? '');
      if (map === null && ref.optional !== true) throw configError(`configmap "${ref.name}" not found (${where})`);
      await writeVolumeFiles(dir, selectItems(map?.data ?? {}, ref.items, (key) => configError(`couldn't find key ${key} in ConfigMap ${namespace}/${ref.name} (${where})`)), where);
      paths.set(volume.name, dir);
    } else if (volume.secret !== undefined) {
      const ref = volume.secret;
      const secret = await source.secret(namespace, ref.secretName ?? '');
      if (secret === null && ref.optional !== true) throw configError(`secret "${ref.secretName}" not found (${where})`);
      await writeVolumeFiles(dir, selectItems(secret === null ? {} : secretData(secret), ref.items, (key) => configError(`couldn't find key ${key} in Secret ${namespace}/${ref.secretName} (${where})`)), where);
      paths.set(volume.name, dir);
    } else {
      // emptyDir, and any source this agent does not know, is an empty directory that lives as long as the pod.
      await mkdir(dir, { recursive: true });
      paths.set(volume.name, dir);
    }
  }
  return paths;
}

/** The container's mounts, from its volumeMounts and the prepared volumes. */
export function containerMounts(pod: Pod, container: Container, volumes: ReadonlyMap<string, string>): VolumeMount[] {
  return (container.volumeMounts ?? []).map((mount) => {
    const hostPath = volumes.get(mount.name);
    if (hostPath === undefined) throw configError(`container ${container.name} of pod ${pod.metadata.namespace}/${pod.metadata.name} mounts volume ${JSON.stringify(mount.name)}, which the pod does not define`);
    return { hostPath: mount.subPath ? join(hostPath, mount.subPath) : hostPath, containerPath: mount.mountPath, readOnly: mount.readOnly === true };
  });
}
