// `raftplane agent` (issue 8): the node agent as its own process. Opens the runtime (process or
// docker), registers the node and runs the agent until SIGTERM or SIGINT; then it stops following
// pods and closes the runtime's connections, but leaves every container running, so that an
// agent started again adopts them (the kubelet behaves the same on restart).

import { setMaxListeners } from 'node:events';
import { join, resolve } from 'node:path';
import { Agent, defaultPodCidr, DockerRuntime, ProcessRuntime, parsePodCidr, type ContainerRuntime } from '@raftplane/agent';
import { createHttpClient } from '@raftplane/client';
import { agentUsage, parseAgentArgs } from './agent-options.js';
import { readToken } from './component.js';
import { invalidFlag } from './errors.js';
import { createComponentLogger } from './logger.js';

/** How long a stopping agent waits for its work and its client to wind down. */
const shutdownMsMax = 10_000;

export async function runAgent(argv: string[]): Promise<number> {
  const parsed = parseAgentArgs(argv);
  if (parsed.help) {
    process.stdout.write(`${agentUsage()}\n`);
    return 0;
  }
  const options = parsed.options;
  const podCidr = options.podCidr ?? defaultPodCidr(options.address);
  try {
    parsePodCidr('pod-cidr', podCidr);
  } catch (error) {
    throw invalidFlag('pod-cidr', (error as Error).message.replace(/^AGENT_INVALID_OPTION: option pod-cidr: /, ''));
  }
  const token = await readToken(options);
  const logger = createComponentLogger({ component: 'agent', identity: options.name }, options.logLevel);
  const dataDir = resolve(options.dataDir);
  const stop = new AbortController();
  const lifetime = new AbortController();
  setMaxListeners(256, stop.signal, lifetime.signal);
  const client = createHttpClient({ endpoints: options.endpoints, token, signal: lifetime.signal, logger, userAgent: `raftplane-agent/0.1.0 (${options.name})` });
  const runtime: ContainerRuntime =
    options.runtime === 'docker'
      ? await DockerRuntime.open({ socketPath: options.dockerSocket, nodeName: options.name, podNetwork: options.podNetwork, logger })
      : await ProcessRuntime.open({ stateDir: join(dataDir, 'runtime'), nodeName: options.name, logger });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) process.exit(1);
    logger.info({ signal }, 'stopping: containers keep running and are adopted by the next agent');
    stop.abort(new Error(`${signal} received`));
    setTimeout(() => {
      logger.warn({ waitedMs: 2 * shutdownMsMax }, 'could not stop cleanly in time; exiting');
      process.exit(1);
    }, 2 * shutdownMsMax).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let exitCode = 0;
  try {
    const agent = new Agent({
      client,
      runtime,
      dataDir,
      identity: { name: options.name, address: options.address, cpu: options.cpu, memory: options.memory, pods: options.maxPods, labels: options.labels, taints: options.taints, podCidr, port: options.port, runtimeName: runtime.name, agentVersion: '0.1.0' },
      heartbeatMs: options.heartbeatMs,
      statusReportMs: options.statusReportMs,
      resyncMs: options.resyncMs,
      restartBackoff: { initialMs: options.restartBackoffMs, maxMs: options.restartBackoffMaxMs },
      logger,
    });
    logger.info({ servers: options.endpoints, address: options.address, runtime: options.runtime, dataDir, podCidr }, 'starting');
    await agent.start(stop.signal);
    logger.info({}, 'ready: following the pods bound to this node');
    await agent.done();
  } catch (error) {
    if (!stop.signal.aborted) {
      logger.error({ err: error }, 'the agent failed');
      exitCode = 1;
    }
  } finally {
    await runtime.close();
    lifetime.abort(new Error('exiting'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([client.closed.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, shutdownMsMax)))]);
    clearTimeout(timer);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  logger.info({ exitCode }, 'stopped');
  return exitCode;
}
