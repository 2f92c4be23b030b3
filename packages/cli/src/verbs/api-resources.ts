// `raftplane api-resources`: what the cluster serves, from its discovery documents (`/api/v1`,
// `/apis`, `/apis/<group>/<version>`) as kubectl api-resources prints them: NAME, SHORTNAMES,
// APIVERSION, NAMESPACED, KIND (and VERBS, CATEGORIES with -o wide), subresources left out.

import type { APIGroupList, APIResource, APIResourceList } from '@raftplane/api';
import { statusErrorFromResponse, type Client } from '@raftplane/client';
import { CliError, CliErrorCode, invalidFlag } from '../errors.js';
import { colourFor, TableWriter } from './printing.js';
import { outputFlag, parseReadArgs, printedHelp, stringFlag, verbUsage, type ReadFlag } from './read-flags.js';
import { withSession, type Verb } from './session.js';

const flags: readonly ReadFlag[] = [
  { name: 'output', short: 'o', type: 'string', value: '<format>', fallback: 'a table', text: 'wide (adds VERBS, CATEGORIES) | name (resource.group lines)' },
  { name: 'namespaced', type: 'string', value: '<true|false>', fallback: 'both', text: 'only namespaced resources, or only cluster-wide ones' },
  { name: 'api-group', type: 'string', value: '<group>', fallback: 'every group', text: "only this group ('' for the core group)" },
  { name: 'no-headers', type: 'boolean', fallback: 'false', text: 'leave out the header line' },
];

export const apiResourcesUsage = verbUsage(
  {
    usage: ['raftplane api-resources [flags]'],
    summary: ['Lists the resource types the cluster serves, with their short names, as kubectl api-resources does.'],
    examples: ['raftplane api-resources', 'raftplane api-resources --namespaced=false', 'raftplane api-resources --api-group apps -o wide'],
  },
  flags,
);

interface Served {
  readonly groupVersion: string;
  readonly group: string;
  readonly resource: APIResource;
}

async function getJson<T>(client: Client, path: string, signal: AbortSignal): Promise<T> {
  const request = { method: 'GET' as const, path, signal };
  const response = await client.transport.request(request);
  if (response.status < 200 || response.status >= 300) throw statusErrorFromResponse(response, request);
  return response.body as T;
}

/** Every served resource, core group first, then each group's preferred version in discovery order. */
async function discover(client: Client, signal: AbortSignal): Promise<Served[]> {
  const groupVersions: { group: string; groupVersion: string }[] = [{ group: '', groupVersion: 'v1' }];
  const groups = await getJson<APIGroupList>(client, '/apis', signal);
  for (const group of groups.groups) groupVersions.push({ group: group.name, groupVersion: group.preferredVersion.groupVersion });
  const served: Served[] = [];
  for (const { group, groupVersion } of groupVersions) {
    const list = await getJson<APIResourceList>(client, group === '' ? '/api/v1' : `/apis/${groupVersion}`, signal);
    for (const resource of list.resources) if (!resource.name.includes('/')) served.push({ group, groupVersion, resource });
  }
  return served;
}

function booleanValue(values: Record<string, string | boolean | string[] | undefined>): boolean | undefined {
  const text = stringFlag(values, 'namespaced');
  if (text === undefined) return undefined;
  if (text !== 'true' && text !== 'false') throw invalidFlag('namespaced', `must be true or false, got ${JSON.stringify(text)}`);
  return text === 'true';
}

export const apiResourcesVerb: Verb = async (argv, io) => {
  const { values, positionals } = parseReadArgs('api-resources', argv, flags);
  if (printedHelp(values, io, apiResourcesUsage)) return 0;
  if (positionals.length > 0) throw new CliError(CliErrorCode.InvalidArgument, `unexpected argument ${JSON.stringify(positionals[0])} for raftplane api-resources: it takes flags only (see --help)`);
  const output = outputFlag(values, ['wide', 'name'] as const);
  const namespaced = booleanValue(values);
  const group = stringFlag(values, 'api-group');
  return withSession(values, io, async (session) => {
    const served = (await discover(session.client, io.signal)).filter((s) => (namespaced === undefined || s.resource.namespaced === namespaced) && (group === undefined || s.group === group));
    if (output === 'name') {
      io.stdout.write(served.map((s) => `${s.resource.name}${s.group === '' ? '' : `.${s.group}`}\n`).join(''));
      return 0;
    }
    const header = ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', ...(output === 'wide' ? ['VERBS', 'CATEGORIES'] : [])];
    const wide = (r: APIResource): string[] => (output === 'wide' ? [r.verbs.join(','), (r.categories ?? []).join(',')] : []);
    const rows = served.map((s) => [s.resource.name, (s.resource.shortNames ?? []).join(','), s.groupVersion, String(s.resource.namespaced), s.resource.kind, ...wide(s.resource)]);
    const writer = new TableWriter(colourFor(io.isTTY, io.env));
    const lines = values['no-headers'] === true ? writer.lines(rows, false) : writer.lines([header, ...rows], true);
    if (lines.length > 0) io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  });
};
