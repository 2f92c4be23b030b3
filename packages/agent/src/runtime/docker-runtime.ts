// The `docker` runtime: containers on a Docker engine through its Engine API (v1.41, the unix
// socket, undici; never the docker CLI). Every container carries the io.raftplane.* labels, so a
// restarted agent adopts what runs and several agents (nodes) share one engine without seeing each
// other's containers.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { silentLogger, systemClock, type ClientLogger, type Clock } from '@raftplane/client';
import { AgentError, AgentErrorCode, invalidOption } from '../errors.js';
import { containerName, createBody, DockerLabel, isDockerInspect, labelsFromDocker, toRuntimeContainer, unexpected, type DockerInspect, type PodNetwork } from './docker-container.js';
import { DieEvents } from './docker-events.js';
import { execInContainer } from './docker-exec.js';
import { DockerHttp, engineMessage } from './docker-http.js';
import { checkReference, imageIdFor, inspectImage, pullImage } from './docker-image.js';
import { containerLogs } from './docker-logs.js';
import type { ContainerRuntime, ContainerStartSpec, ExecResult, ImagePullPolicy, LogOptions, RuntimeContainer } from './runtime.js';

export interface DockerRuntimeOptions {
  /** The engine's unix socket, e.g. /var/run/docker.sock or the tests' /tmp/raftplane-docker/docker.sock. */
  readonly socketPath: string;
  /** This agent's node: the label every container gets, and the filter of list and onExit. */
  readonly nodeName: string;
  /** 'host' (default): containers share the machine's network and bind their pod's 127.x address. */
  readonly podNetwork?: PodNetwork;
  readonly logger?: ClientLogger;
  /** Timers of the event stream's reconnect backoff, stop's grace and exec's timeout. */
  readonly clock?: Clock;
  /** Jitter of the reconnect backoff, in [0, 1). */
  readonly random?: () => number;
}

/** The bounds of the runtime (house rule 2), sized for one node's few dozen containers. */
export const dockerRuntimeLimits = Object.freeze({
  /** /_ping at open(). */
  pingTimeoutMs: 5_000,
  /** Inspect, list, kill, remove, start. */
  callTimeoutMs: 30_000,
  /** Create copies the image's files on the vfs storage driver: seconds for a large image. */
  createTimeoutMs: 120_000,
  /** After a stop's grace: SIGKILL and the engine noticing the exit. */
  stopMarginMs: 30_000,
  pullSilenceMsMax: 300_000,
  poolConnectionsMax: 8,
  /** Log followers, stops, execs, pulls and the event stream open at once. */
  streamsMax: 256,
  answerBytesMax: 16 * 1024 * 1024,
  frameBytesMax: 1024 * 1024,
  lineBytesMax: 256 * 1024,
  /** Kubernetes keeps the first 10 KiB of a probe's output. */
  execOutputBytesMax: 10 * 1024,
  execExitPollMs: 10,
  /** Containers inspected at once by list(). */
  inspectConcurrencyMax: 4,
  imageIdCacheEntriesMax: 256,
  eventsReconnectDelayMsMin: 500,
  eventsReconnectDelayMsMax: 30_000,
});

/** A Kubernetes node name: a DNS subdomain. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export class DockerRuntime implements ContainerRuntime {
  readonly name = 'docker';
  private readonly events: DieEvents;
  /** Image id → imageID as Kubernetes shows it; image ids name content, so entries stay true. */
  private readonly imageIds = new Map<string, string>();

  private constructor(
    private readonly http: DockerHttp,
    private readonly nodeName: string,
    private readonly podNetwork: PodNetwork,
    private readonly logger: ClientLogger,
    private readonly clock: Clock,
    random: () => number,
  ) {
    const limits = dockerRuntimeLimits;
    this.events = new DieEvents({
      http,
      nodeName,
      clock,
      random,
      logger,
      connectTimeoutMs: limits.callTimeoutMs,
      reconnectDelayMsMin: limits.eventsReconnectDelayMsMin,
      reconnectDelayMsMax: limits.eventsReconnectDelayMsMax,
      lineBytesMax: limits.lineBytesMax,
    });
  }

  /** Validates the options and pings the engine; RuntimeUnavailable, naming the socket, when it does not answer. */
  static async open(options: DockerRuntimeOptions): Promise<DockerRuntime> {
    const podNetwork = options.podNetwork ?? 'host';
    if (typeof options.socketPath !== 'string' || !options.socketPath.startsWith('/')) throw invalidOption('socketPath', `must be an absolute path, got ${JSON.stringify(options.socketPath)}`);
    if (typeof options.nodeName !== 'string' || options.nodeName.length > 253 || !NODE_NAME.test(options.nodeName)) throw invalidOption('nodeName', `must be a DNS subdomain, got ${JSON.stringify(options.nodeName)}`);
    if (podNetwork !== 'host' && podNetwork !== 'bridge') throw invalidOption('podNetwork', `must be 'host' or 'bridge', got ${JSON.stringify(podNetwork)}`);
    const limits = dockerRuntimeLimits;
    const http = new DockerHttp({
      socketPath: options.socketPath,
      poolConnectionsMax: limits.poolConnectionsMax,
      streamsMax: limits.streamsMax,
      answerBytesMax: limits.answerBytesMax,
    });
    try {
      // The versioned ping also proves the engine speaks API 1.41 (an older one answers 400).
      const answer = await http.call('GET', '/_ping', { timeoutMs: limits.pingTimeoutMs });
      if (answer.statusCode !== 200) throw new Error(engineMessage(answer));
    } catch (error) {
      await http.close();
      const detail = error instanceof Error ? error.message : String(error);
      throw new AgentError(AgentErrorCode.RuntimeUnavailable, `no Docker engine answers on ${options.socketPath}: ${detail}`, { cause: error });
    }
    const logger = options.logger ?? silentLogger;
    logger.info({ socketPath: options.socketPath, nodeName: options.nodeName, podNetwork }, 'docker runtime ready');
    return new DockerRuntime(http, options.nodeName, podNetwork, logger, options.clock ?? systemClock, options.random ?? Math.random);
  }

  async ensureImage(image: string, policy: ImagePullPolicy, signal: AbortSignal): Promise<{ readonly pulled: boolean }> {
    if (signal.aborted) throw signal.reason;
    checkReference(image);
    const limits = dockerRuntimeLimits;
    if (policy !== 'Always') {
      const present = await inspectImage(this.http, image, limits.callTimeoutMs, signal);
      if (present !== undefined) return { pulled: false };
      if (policy === 'Never') {
        throw new AgentError(AgentErrorCode.ImageNeverPull, `image ${image} is not present on the Docker engine at ${this.http.socketPath} and imagePullPolicy is Never`);
      }
    }
    this.logger.info({ image, policy, nodeName: this.nodeName }, 'pulling image');
    await pullImage(this.http, image, { callTimeoutMs: limits.callTimeoutMs, pullSilenceMsMax: limits.pullSilenceMsMax, lineBytesMax: limits.lineBytesMax }, signal);
    // A pull can give a local image its registry digest: imageIDs are looked up again.
    this.imageIds.clear();
    if ((await inspectImage(this.http, image, limits.callTimeoutMs, signal)) === undefined) {
      throw new AgentError(AgentErrorCode.ImagePull, `pulling ${image}: the engine reported success but does not have the image`);
    }
    this.logger.info({ image, nodeName: this.nodeName }, 'pulled image');
    return { pulled: true };
  }

  async start(spec: ContainerStartSpec): Promise<RuntimeContainer> {
    assert.equal(spec.labels.nodeName, this.nodeName, `a container of node ${spec.labels.nodeName} started on the runtime of node ${this.nodeName}`);
    const body = createBody(spec, this.podNetwork);
    const name = containerName(spec.labels, randomBytes(3).toString('hex'));
    const what = `${spec.labels.podNamespace}/${spec.labels.podName} container ${spec.labels.containerName}`;
    const created = await this.http.call('POST', '/containers/create', { query: { name }, json: body, timeoutMs: dockerRuntimeLimits.createTimeoutMs });
    const id = (created.body as { Id?: unknown } | undefined)?.Id;
    if (created.statusCode !== 201 || typeof id !== 'string') {
      throw new AgentError(AgentErrorCode.CreateContainer, `${what} (image ${spec.image}): ${engineMessage(created)}`);
    }
    const started = await this.http.call('POST', `/containers/${id}/start`, { timeoutMs: dockerRuntimeLimits.callTimeoutMs });
    if (started.statusCode !== 204 && started.statusCode !== 304) {
      // A container that never ran is of no use to anyone; the agent creates a new one on retry.
      await this.remove(id).catch((error: unknown) => this.logger.warn({ containerId: id, error: String(error) }, 'removing a container that failed to start'));
      throw new AgentError(AgentErrorCode.StartContainer, `${what} (image ${spec.image}): ${engineMessage(started)}`);
    }
    const container = await this.inspect(id);
    if (container === undefined) throw new AgentError(AgentErrorCode.StartContainer, `${what}: container ${id} vanished right after it started`);
    this.logger.info({ containerId: id, name, podUid: spec.labels.podUid, attempt: spec.labels.attempt, nodeName: this.nodeName }, 'container started');
    return container;
  }

  async stop(id: string, gracePeriodMs: number): Promise<void> {
    assert.ok(Number.isFinite(gracePeriodMs), `stop: gracePeriodMs ${gracePeriodMs} is not a finite number`);
    // What is left of a deadline may already be negative: that is "no grace left", not a bug (as in the process runtime).
    const graceMs = Math.max(0, Math.ceil(gracePeriodMs));
    if (graceMs >= 1000) {
      await this.stopByEngine(id, graceMs);
    } else {
      // The engine counts grace in whole seconds; under one, the runtime signals and waits itself.
      if (graceMs > 0) {
        await this.kill(id, 'SIGTERM');
        if (await this.waitNotRunning(id, graceMs)) return;
      }
      await this.kill(id, 'SIGKILL');
      await this.waitNotRunning(id, dockerRuntimeLimits.stopMarginMs);
    }
    this.logger.debug({ containerId: id, gracePeriodMs: graceMs, nodeName: this.nodeName }, 'container stopped');
  }

  async remove(id: string): Promise<void> {
    const answer = await this.http.call('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { force: true, v: true }, timeoutMs: dockerRuntimeLimits.callTimeoutMs });
    // 404: already gone; 409: its removal is already in progress.
    if (answer.statusCode !== 204 && answer.statusCode !== 404 && answer.statusCode !== 409) {
      throw new AgentError(AgentErrorCode.RuntimeUnavailable, `removing container ${id}: ${engineMessage(answer)}`);
    }
    this.logger.debug({ containerId: id, nodeName: this.nodeName }, 'container removed');
  }

  async list(): Promise<RuntimeContainer[]> {
    const filters = JSON.stringify({ label: [`${DockerLabel.nodeName}=${this.nodeName}`] });
    const answer = await this.http.call('GET', '/containers/json', { query: { all: 1, filters }, timeoutMs: dockerRuntimeLimits.callTimeoutMs });
    if (answer.statusCode !== 200 || !Array.isArray(answer.body)) throw unexpected(`GET /containers/json: ${engineMessage(answer)}`);
    const ids = (answer.body as { Id?: unknown }[]).map((summary) => summary.Id).filter((id): id is string => typeof id === 'string');
    const containers: RuntimeContainer[] = [];
    // A few at a time: a node's containers are dozens, and the engine serves other agents too.
    for (let index = 0; index < ids.length; index += dockerRuntimeLimits.inspectConcurrencyMax) {
      const batch = ids.slice(index, index + dockerRuntimeLimits.inspectConcurrencyMax);
      for (const container of await Promise.all(batch.map((id) => this.inspect(id)))) {
        // Removed between the list and the inspect: gone, not an error.
        if (container !== undefined) containers.push(container);
      }
    }
    return containers;
  }

  async inspect(id: string): Promise<RuntimeContainer | undefined> {
    const raw = await this.inspectRaw(id);
    if (raw === undefined) return undefined;
    const labels = labelsFromDocker(raw.Config.Labels);
    // Another node's container, or none of ours: this runtime does not know it.
    if (labels === undefined || labels.nodeName !== this.nodeName) return undefined;
    return toRuntimeContainer(raw, labels, await this.imageIdOf(raw.Image));
  }

  logs(id: string, options: LogOptions): AsyncIterable<Uint8Array> {
    return containerLogs(this.http, id, options, { callTimeoutMs: dockerRuntimeLimits.callTimeoutMs, frameBytesMax: dockerRuntimeLimits.frameBytesMax });
  }

  exec(id: string, command: readonly string[], timeoutMs: number): Promise<ExecResult> {
    assert.ok(Number.isFinite(timeoutMs) && timeoutMs > 0, `exec: timeoutMs ${timeoutMs} must be > 0`);
    // As a shell (and the process runtime) reports it; the engine would refuse the exec outright.
    if (command.length === 0) return Promise.resolve({ exitCode: 127, output: 'exec: the command is empty' });
    const limits = dockerRuntimeLimits;
    return execInContainer(this.http, this.clock, id, command, timeoutMs, {
      callTimeoutMs: limits.callTimeoutMs,
      outputBytesMax: limits.execOutputBytesMax,
      frameBytesMax: limits.frameBytesMax,
      exitPollMs: limits.execExitPollMs,
    });
  }

  onExit(listener: (id: string) => void): () => void {
    return this.events.add(listener);
  }

  /** Ends the event stream and every open call; resolves once their sockets are closed. */
  async close(): Promise<void> {
    await this.events.close();
    await this.http.close();
  }

  private async inspectRaw(id: string): Promise<DockerInspect | undefined> {
    const answer = await this.http.call('GET', `/containers/${encodeURIComponent(id)}/json`, { timeoutMs: dockerRuntimeLimits.callTimeoutMs });
    if (answer.statusCode === 404) return undefined;
    if (answer.statusCode !== 200) throw unexpected(`inspecting container ${id}: ${engineMessage(answer)}`);
    if (!isDockerInspect(answer.body)) throw unexpected(`inspecting container ${id}: fields missing`);
    return answer.body;
  }

  private async imageIdOf(imageId: string): Promise<string> {
    const known = this.imageIds.get(imageId);
    if (known !== undefined) return known;
    const image = await inspectImage(this.http, imageId, dockerRuntimeLimits.callTimeoutMs);
    // Deleted since the container was created: the container still has its id.
    const shown = image === undefined ? imageId : imageIdFor(image);
    if (this.imageIds.size >= dockerRuntimeLimits.imageIdCacheEntriesMax) {
      const oldest = this.imageIds.keys().next().value;
      if (oldest !== undefined) this.imageIds.delete(oldest);
    }
    this.imageIds.set(imageId, shown);
    return shown;
  }

  /** POST /stop: the engine sends SIGTERM, waits `t` whole seconds (rounded up), sends SIGKILL, and answers once exited. */
  private async stopByEngine(id: string, gracePeriodMs: number): Promise<void> {
    const graceSeconds = Math.ceil(gracePeriodMs / 1000);
    const stream = await this.http.stream('POST', `/containers/${encodeURIComponent(id)}/stop`, {
      query: { t: graceSeconds },
      headersTimeoutMs: graceSeconds * 1000 + dockerRuntimeLimits.stopMarginMs,
      bodyTimeoutMs: dockerRuntimeLimits.stopMarginMs,
    });
    try {
      const text = await readText(stream.body);
      // 304: not running; 404: unknown. Both are a done stop.
      if (stream.statusCode !== 204 && stream.statusCode !== 304 && stream.statusCode !== 404) {
        throw new AgentError(AgentErrorCode.RuntimeUnavailable, `stopping container ${id}: HTTP ${stream.statusCode} ${text}`);
      }
    } catch (error) {
      throw this.http.unreachable(error, `stopping container ${id}`, undefined);
    } finally {
      await stream.release();
    }
  }

  private async kill(id: string, signalName: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const answer = await this.http.call('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal: signalName }, timeoutMs: dockerRuntimeLimits.callTimeoutMs });
    // 404: unknown; 409: not running. Nothing to signal either way.
    if (answer.statusCode !== 204 && answer.statusCode !== 404 && answer.statusCode !== 409) {
      throw new AgentError(AgentErrorCode.RuntimeUnavailable, `sending ${signalName} to container ${id}: ${engineMessage(answer)}`);
    }
  }

  /** Whether the container is not running (or unknown) within `timeoutMs`. */
  private async waitNotRunning(id: string, timeoutMs: number): Promise<boolean> {
    const deadline = new AbortController();
    // A timer, not AbortSignal.timeout: the latter can be lost after a GC on Node 20.
    const timer = this.clock.setTimer(() => deadline.abort(new Error('wait deadline')), timeoutMs);
    try {
      const stream = await this.http.stream('POST', `/containers/${encodeURIComponent(id)}/wait`, {
        query: { condition: 'not-running' },
        headersTimeoutMs: timeoutMs + dockerRuntimeLimits.callTimeoutMs,
        bodyTimeoutMs: 0,
        signal: deadline.signal,
      });
      try {
        const text = await readText(stream.body);
        if (stream.statusCode === 404) return true;
        if (stream.statusCode !== 200) throw new AgentError(AgentErrorCode.RuntimeUnavailable, `waiting for container ${id}: HTTP ${stream.statusCode} ${text}`);
        return true;
      } finally {
        await stream.release();
      }
    } catch (error) {
      if (deadline.signal.aborted) return false;
      throw this.http.unreachable(error, `waiting for container ${id}`, undefined);
    } finally {
      timer.cancel();
    }
  }
}

/** A long call's small answer (stop, wait): at most a few hundred bytes of JSON. */
async function readText(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.byteLength;
    if (bytes > dockerRuntimeLimits.lineBytesMax) throw unexpected(`an answer over ${dockerRuntimeLimits.lineBytesMax} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, bytes).toString('utf8');
}
