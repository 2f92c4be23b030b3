// `raftplane agent` (issue 8): the node agent as its own process. Opens the runtime (process or
// docker), registers the node and runs the agent until SIGTERM or SIGINT; then it stops following
// pods and closes the runtime's connections, but leaves every container running, so that an
// agent started again adopts them (the kubelet behaves the same on restart).

import { join, resolve } from 'node:path';
import { Agent, defaultPodCidr, DockerRuntime, ProcessRuntime, parsePodCidr, type ContainerRuntime } from '@raftplane/agent';
import { agentUsage, parseAgentArgs } from './agent-options.js';
import { readToken } from './component.js';
import { invalidFlag } from './errors.js';
import { runNodeProcess } from './node-process.js';

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
  const dataDir = resolve(options.dataDir);
  let runtime: ContainerRuntime | undefined;
  return runNodeProcess(
    { component: 'agent', identity: options.name, logLevel: options.logLevel, endpoints: options.endpoints, token, userAgent: `raftplane-agent/0.1.0 (${options.name})`, stoppingMessage: 'stopping: containers keep running and are adopted by the next agent' },
    async ({ logger, client, stop }) => {
      runtime =
        options.runtime === 'docker'
          ? await DockerRuntime.open({ socketPath: options.dockerSocket, nodeName: options.name, podNetwork: options.podNetwork, logger })
          : await ProcessRuntime.open({ stateDir: join(dataDir, 'runtime'), nodeName: options.name, logger });
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
      await agent.start(stop);
      logger.info({}, 'ready: following the pods bound to this node');
      await agent.done();
    },
    // The runtime's own connections close; its containers keep running.
    async () => runtime?.close(),
  );
}
