// Containers the agents left running. An agent leaves its containers running on SIGTERM by design
// (the next agent adopts them, as the kubelet does), so `cluster down` stops them itself, through
// the same runtime code the agents use: the process runtime signals each recorded process group,
// the docker runtime asks the engine. Stopped, not removed: logs stay for `kubectl logs
// --previous`, and the next agent restarts the containers as the pods' restartPolicy says, as
// after a node reboot.

import { join } from 'node:path';
import { DockerRuntime, ProcessRuntime, type ContainerRuntime } from '@raftplane/agent';
import type { NodeProcesses, NodeSpec, NodesRecord } from './nodes.js';

/** How long each container gets between SIGTERM and SIGKILL. */
const stopGraceMs = 5_000;

async function openRuntime(processes: NodeProcesses, record: NodesRecord, node: NodeSpec): Promise<ContainerRuntime> {
  if (record.runtime === 'docker') return DockerRuntime.open({ socketPath: record.dockerSocket, nodeName: node.name });
  return ProcessRuntime.open({ stateDir: join(processes.agentDataDir(node.name), 'runtime'), nodeName: node.name });
}

/**
 * Stops every container still running on the recorded nodes (and with `remove`, removes every one
 * of theirs, stopped or not); the agents must be stopped first.
 * Returns how many it stopped and the nodes whose runtime could not be reached (named in `failed`).
 */
export async function stopLeftoverContainers(processes: NodeProcesses, record: NodesRecord, options: { remove: boolean } = { remove: false }): Promise<{ stopped: number; failed: string[] }> {
  let stopped = 0;
  const failed: string[] = [];
  for (const node of record.nodes) {
    let runtime: ContainerRuntime;
    try {
      runtime = await openRuntime(processes, record, node);
    } catch (error) {
      failed.push(`${node.name}: ${(error as Error).message}`);
      continue;
    }
    try {
      const all = await runtime.list();
      const running = all.filter((c) => c.state === 'running');
      await Promise.all(running.map((c) => runtime.stop(c.id, stopGraceMs)));
      stopped += running.length;
      // `cluster wipe`: the pods are forgotten with the data, so their containers go too.
      if (options.remove) for (const c of all) await runtime.remove(c.id);
    } catch (error) {
      failed.push(`${node.name}: ${(error as Error).message}`);
    } finally {
      await runtime.close();
    }
  }
  return { stopped, failed };
}
