// raftplane events against an in-process master: kubectl events' table, oldest first, -A, --for,
// --types, -w, and every error as one line.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '@raftplane/api';
import { closedServer, forbiddingServer, linesOf, readTable, startVerb } from './support/read-output.js';
import { runVerbAgainst, startVerbCluster, type VerbCluster } from './support/verb-cluster.js';

let cluster: VerbCluster;
const events = (...argv: string[]) => runVerbAgainst(cluster.server, 'events', argv);
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');

function event(name: string, kind: string, object: string, reason: string, type: 'Normal' | 'Warning', last: number, count = 1, first = last): Event {
  return { metadata: { name }, involvedObject: { kind, name: object }, reason, message: `${reason} of ${object}`, type, source: { component: 'test' }, firstTimestamp: daysAgo(first), lastTimestamp: daysAgo(last), count };
}

beforeAll(async () => {
  cluster = await startVerbCluster({ components: false });
  for (const ns of ['shop', 'other', 'empty']) await cluster.client.resource('namespaces').create({ metadata: { name: ns } });
  const shop = cluster.client.resource('events', 'shop');
  // Created out of order: the table sorts by when they last happened.
  await shop.create(event('e2', 'Pod', 'web-1', 'Started', 'Normal', 2));
  await shop.create(event('e1', 'Pod', 'web-1', 'BackOff', 'Warning', 3, 4, 5));
  await shop.create(event('e3', 'Service', 'web-1', 'Synced', 'Normal', 1));
  await cluster.client.resource('events', 'other').create(event('e4', 'Node', 'node-a', 'NodeReady', 'Normal', 4));
}, 30_000);
afterAll(async () => cluster?.stop());

describe('the table', () => {
  it('prints LAST SEEN, TYPE, REASON, OBJECT, MESSAGE, oldest first, repeats as kubectl counts them', async () => {
    const run = await events('-n', 'shop');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(linesOf(run.stdout)).toEqual([
      'LAST SEEN         TYPE      REASON    OBJECT          MESSAGE',
      '3d (x4 over 5d)   Warning   BackOff   Pod/web-1       BackOff of web-1',
      '2d                Normal    Started   Pod/web-1       Started of web-1',
      '24h               Normal    Synced    Service/web-1   Synced of web-1',
    ]);
  });

  it('-A adds NAMESPACE and reads every namespace', async () => {
    const table = readTable(linesOf((await events('-A')).stdout));
    expect(table.header).toEqual(['NAMESPACE', 'LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(table.rows.map((r) => [r[0], r[4]])).toEqual([['other', 'Node/node-a'], ['shop', 'Pod/web-1'], ['shop', 'Pod/web-1'], ['shop', 'Service/web-1']]);
  });

  it('--for picks one object by kind and name; --types by type', async () => {
    expect(readTable(linesOf((await events('-n', 'shop', '--for', 'pod/web-1')).stdout)).rows.map((r) => r[2])).toEqual(['BackOff', 'Started']);
    expect(readTable(linesOf((await events('-n', 'shop', '--for', 'svc/web-1')).stdout)).rows.map((r) => r[2])).toEqual(['Synced']);
    expect(readTable(linesOf((await events('-n', 'shop', '--types', 'warning')).stdout)).rows.map((r) => r[2])).toEqual(['BackOff']);
    expect(linesOf((await events('-n', 'shop', '--no-headers', '--types', 'Normal')).stdout).map((l) => l.split(/\s{3,}/)[2])).toEqual(['Started', 'Synced']);
  });

  it('-o yaml and -o json print the events oldest first as a v1 List', async () => {
    const json = JSON.parse((await events('-n', 'shop', '-o', 'json')).stdout) as { kind: string; items: Event[] };
    expect(json.kind).toBe('List');
    expect(json.items.map((e) => e.reason)).toEqual(['BackOff', 'Started', 'Synced']);
    const yaml = linesOf((await events('-n', 'shop', '--for', 'svc/web-1', '-o', 'yaml')).stdout);
    expect(yaml.slice(0, 3)).toEqual(['apiVersion: v1', 'items:', '- apiVersion: v1']);
    expect(yaml).toContain('  reason: Synced');
    expect((await events('-o', 'wide')).stderr).toBe('unable to match a printer suitable for the output format "wide", allowed formats are: yaml,json\n');
  });

  it('says No events found on stderr when there are none', async () => {
    expect(await events('-n', 'empty')).toEqual({ code: 0, stdout: '', stderr: 'No events found in empty namespace.\n' });
    expect(await events('-n', 'shop', '--for', 'pod/nothing')).toEqual({ code: 0, stdout: '', stderr: 'No events found in shop namespace.\n' });
  });

  it('colours Warning rows red only on a terminal', async () => {
    const tty = await runVerbAgainst(cluster.server, 'events', ['-n', 'shop'], { isTTY: true });
    expect(linesOf(tty.stdout)[1]).toMatch(/^\x1b\[31m3d \(x4 over 5d\) {3}Warning .*\x1b\[0m$/);
    expect(linesOf(tty.stdout)[2]).toMatch(/^2d {16}Normal/);
  });
});

describe('-w', () => {
  it('prints the table, then each new event, until interrupted', async () => {
    const watch = startVerb(cluster.server, 'events', ['-n', 'other', '-w']);
    await watch.waitFor((out) => out.includes('NodeReady'));
    await cluster.client.resource('events', 'other').create({ ...event('e5', 'Node', 'node-a', 'Rebooted', 'Normal', 0), lastTimestamp: new Date().toISOString() });
    await watch.waitFor((out) => out.includes('Rebooted'));
    expect(await watch.stop()).toBe(0);
    const table = readTable(linesOf(watch.stdout()));
    expect(table.rows.map((r) => [r[1], r[2]])).toEqual([['Normal', 'NodeReady'], ['Normal', 'Rebooted']]);
  });
});

describe('errors', () => {
  it('rejects a bad --for, --types, argument or flag in one line', async () => {
    expect(await events('--for', 'podz/x')).toEqual({ code: 1, stdout: '', stderr: 'the server doesn\'t have a resource type "podz" (did you mean "pods"?)\n' });
    expect((await events('--for', 'web-1')).stderr).toBe('--for "web-1" must be <type>/<name>, e.g. pod/web-1\n');
    expect((await events('--types', 'Bad')).stderr).toBe('--types "Bad" is not a valid event type (Normal, Warning)\n');
    expect((await events('pod/web-1')).stderr).toBe('unexpected argument "pod/web-1" for raftplane events: name the object with --for <type>/<name>\n');
    expect((await events('--bogus')).stderr).toBe('unknown flag --bogus for raftplane events (see --help)\n');
  });

  it('names the endpoint tried when the cluster cannot be reached', async () => {
    const closed = await closedServer();
    const run = await runVerbAgainst(closed, 'events', []);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^cannot reach the cluster: tried ${closed} \\(`));
  });

  it('prints a Forbidden answer as kubectl does', async () => {
    const fake = await forbiddingServer();
    try {
      expect((await runVerbAgainst(fake.server, 'events', [])).stderr).toBe('Error from server (Forbidden): events is forbidden: User "bob" cannot list resource "events" in API group "" in the namespace "default"\n');
    } finally {
      await fake.close();
    }
  });

  it('--help lists every flag with its default', async () => {
    const lines = linesOf((await events('--help')).stdout);
    expect(lines[0]).toBe('usage: raftplane events [--for <type>/<name>] [-A] [-w] [flags]');
    for (const flag of ['-A, --all-namespaces', '--for <type>/<name>', '--types <type,...>', '-w, --watch', '--no-headers', '-o, --output <format>', '-n, --namespace <namespace>']) {
      expect(lines.find((l) => l.trimStart().startsWith(flag)), flag).toMatch(/\(default .+\)$/);
    }
  });
});
