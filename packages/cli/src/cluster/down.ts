// `cluster down`: with --delete-demo first deletes the demo app through the API (its pods stopped
// by their agents, gracefully); then stops the proxy and the agents, then every container the
// agents left running (agents leave them on SIGTERM by design), then the masters, followers first.
// Afterwards no process of the cluster runs: no master, agent, proxy or pod.

import { adminToken, serverUrls } from './access.js';
import type { ClusterContext } from './context.js';
import { deleteDemo } from './demo.js';
import { stopLeftoverContainers } from './leftovers.js';
import { agreedLeader } from './masters.js';

async function deleteDemoIfUp(context: ClusterContext): Promise<void> {
  const { control, say } = context;
  if ((await control.running()).size === 0) return;
  if (agreedLeader(await control.client.statusAll()) === 0) {
    say('no leader: the demo app is not deleted through the API; its containers are stopped below');
    return;
  }
  try {
    const found = await deleteDemo({ servers: serverUrls(control.config), token: await adminToken(control.config), signal: context.signal, timeoutMs: context.flags.timeoutMs });
    if (found) say('demo app deleted: its pods are gone');
  } catch (error) {
    // The containers are stopped below whatever happened here.
    say(`the demo app could not be deleted through the API (${(error as Error).message}); its containers are stopped below`);
  }
}

async function stopNodes(context: ClusterContext, remove: boolean): Promise<boolean> {
  const { nodes, say } = context;
  let any = false;
  // The proxy first (nothing new is routed), then the agents, all at once: each takes a moment to
  // wind down its connections, and they do not depend on one another.
  const agents = (await nodes.components()).filter((c) => c !== 'proxy');
  for (const batch of [['proxy' as const], agents]) {
    const pids = await Promise.all(batch.map((component) => nodes.stop(component)));
    batch.forEach((component, i) => {
      const pid = pids[i];
      if (pid === null || pid === undefined) return;
      any = true;
      say(`${component === 'proxy' ? 'proxy' : `agent ${component.slice('agent-'.length)}`} stopped (pid ${pid})`);
    });
  }
  const record = await nodes.record();
  if (record !== null) {
    const { stopped, failed } = await stopLeftoverContainers(nodes, record, { remove });
    if (stopped > 0) say(`stopped ${stopped} container${stopped === 1 ? '' : 's'} the agents left running (${record.runtime} runtime)`);
    for (const failure of failed) say(`could not stop the containers of ${failure}`);
    any ||= stopped > 0;
  }
  return any;
}

async function stopMasters(context: ClusterContext): Promise<boolean> {
  const { control, say } = context;
  const running = await control.running();
  if (running.size === 0) return false;
  // Followers first (together), the leader last, so that leadership does not move on the way down.
  const leader = await control.client.leader();
  const followers = [...running.keys()].filter((id) => id !== leader);
  for (const batch of [followers, running.has(leader) ? [leader] : []]) {
    const pids = await Promise.all(batch.map((id) => control.stop(id)));
    batch.forEach((id, i) => {
      const pid = pids[i];
      if (pid !== null && pid !== undefined) say(`master ${id} stopped (pid ${pid})`);
    });
  }
  return true;
}

/** `cluster down`; for `cluster wipe` (`removeContainers`), the agents' containers are removed as well. */
export async function down(context: ClusterContext, removeContainers = false): Promise<void> {
  if (context.flags.deleteDemo) await deleteDemoIfUp(context);
  const nodesStopped = await stopNodes(context, removeContainers);
  const mastersStopped = await stopMasters(context);
  if (!nodesStopped && !mastersStopped) context.say(`cluster ${context.control.config.name} is not running; nothing to stop`);
}
