// `cluster status`: per master its process, Raft role, term, commit and applied index, lag,
// readiness and liveness; the leader the masters agree on; the nodes with their readiness as the
// API reports them, beside the agent and proxy processes that run here.

import { adminToken, apiGet, serverUrls } from './access.js';
import type { ClusterContext } from './context.js';
import { agreedLeader, formatTable, statusTable } from './masters.js';

export interface NodeList {
  readonly items: readonly {
    readonly metadata: { readonly name: string };
    readonly status?: {
      readonly conditions?: readonly { readonly type: string; readonly status: string }[];
      readonly addresses?: readonly { readonly type: string; readonly address: string }[];
    };
  }[];
}

/** Each master's /livez, in parallel; false for one that does not answer within a second and a half. */
async function liveness(context: ClusterContext): Promise<Map<number, boolean>> {
  const entries = await Promise.all(
    context.control.config.masters.map(async (m): Promise<[number, boolean]> => {
      try {
        const response = await fetch(`http://${m.api.host}:${m.api.port}/livez`, { signal: AbortSignal.timeout(1_500) });
        await response.body?.cancel();
        return [m.id, response.ok];
      } catch {
        return [m.id, false];
      }
    }),
  );
  return new Map(entries);
}

async function nodesTable(context: ClusterContext, leader: number): Promise<string | null> {
  const { control, nodes } = context;
  const processes = await nodes.running();
  const list = leader === 0 ? null : await apiGet<NodeList>(serverUrls(control.config), await adminToken(control.config), '/api/v1/nodes');
  const record = await nodes.record();
  const names = new Set([...(record?.nodes ?? []).map((n) => n.name), ...(list?.items ?? []).map((n) => n.metadata.name)]);
  if (names.size === 0) return null;
  const rows = [...names].sort().map((name) => {
    const node = list?.items.find((n) => n.metadata.name === name);
    const ready = node?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    const status = list === null ? 'unknown (no leader)' : node === undefined ? 'not registered' : ready === 'True' ? 'Ready' : 'NotReady';
    const address = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? record?.nodes.find((n) => n.name === name)?.address ?? '-';
    const pid = processes.get(`agent-${name}`);
    return [name, status, address, pid === undefined ? '-' : String(pid)];
  });
  const proxy = processes.get('proxy');
  const proxyLine = record === null ? '' : `\nproxy: ${proxy === undefined ? 'not running' : `running (pid ${proxy}), NodePorts on ${record.nodes.map((n) => n.address).join(', ')}`}`;
  return `${formatTable(['node', 'status', 'address', 'agent pid'], rows)}${proxyLine}`;
}

export async function printStatus(context: ClusterContext): Promise<void> {
  const { control, say } = context;
  const [statuses, live, running] = await Promise.all([control.client.statusAll(), liveness(context), control.running()]);
  const leader = agreedLeader(statuses);
  if (running.size === 0) say(`cluster ${control.config.name} is not running`);
  else if (leader === 0) say(`cluster ${control.config.name}: no leader agreed on by a quorum`);
  else say(`cluster ${control.config.name}: leader master ${leader} (term ${statuses.get(leader)?.term ?? '?'})`);
  say(statusTable(statuses, running, live));
  const table = await nodesTable(context, leader);
  if (table !== null) say(`\n${table}`);
}
