// Printing for the read verbs: kubectl's tabwriter alignment, -o json|yaml|name, colour only on a
// terminal, and describe's layout.

import { describe, expect, it } from 'vitest';
import { resolveResource, type ResourceInfo } from '@raftplane/api';
import { alignRows, colourFor, describeLayout, formatLabels, listOf, nameOf, TableWriter, tabwrite, toJson, toYaml } from '../src/verbs/printing.js';
import { describeEvents, describeTime, DescribeText, eventAge } from '../src/verbs/read-describe-text.js';
import { executeJsonPath, goValueText, parseJsonPath } from '../src/verbs/read-jsonpath.js';

describe('tables aligned as kubectl tabwriter aligns them', () => {
  it('pads each column to its widest cell plus three spaces and leaves the last column unpadded', () => {
    expect(alignRows([
      ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
      ['web-1', '1/1', 'Running', '0', '5m'],
      ['a-much-longer-name', '0/1', 'CrashLoopBackOff', '12', '3d4h'],
    ])).toEqual([
      'NAME                 READY   STATUS             RESTARTS   AGE',
      'web-1                1/1     Running            0          5m',
      'a-much-longer-name   0/1     CrashLoopBackOff   12         3d4h',
    ]);
  });

  it('makes a column at least six wide, padding included (tabwriter minwidth 6)', () => {
    expect(alignRows([
      ['NS', 'A', 'B'],
      ['x', 'y', 'z'],
    ])).toEqual(['NS    A     B', 'x     y     z']);
  });

  it('keeps the widths it has seen for later rows, so watch rows stay under the header', () => {
    const writer = new TableWriter(colourFor(false));
    expect(writer.lines([['NAME', 'STATUS', 'AGE'], ['web-1', 'Pending', '0s']], true)).toEqual(['NAME    STATUS    AGE', 'web-1   Pending   0s']);
    expect(writer.lines([['w', 'Running', '1s']], false)).toEqual(['w       Running   1s']);
    // A wider cell widens its column from then on; widths never shrink.
    expect(writer.lines([['web-100000', 'Running', '2s']], false)).toEqual(['web-100000   Running   2s']);
    expect(writer.lines([['w', 'Running', '3s']], false)).toEqual(['w            Running   3s']);
  });

  it('aligns runs of lines separately where a line without a tab breaks them (describe)', () => {
    const text = ['Name:\tweb-1', 'Namespace:\tdefault', 'Containers:', '  web:', '    Image:\tnginx', '    Restart Count:\t0'].join('\n');
    expect(tabwrite(text, describeLayout).split('\n')).toEqual([
      'Name:       web-1',
      'Namespace:  default',
      'Containers:',
      '  web:',
      '    Image:          nginx',
      '    Restart Count:  0',
    ]);
  });
});

describe('colour only on a terminal', () => {
  it('prints plain text when the output is not a terminal', () => {
    const writer = new TableWriter(colourFor(false));
    expect(writer.lines([['NAME', 'STATUS'], ['web-1', 'CrashLoopBackOff']], true)).toEqual(['NAME    STATUS', 'web-1   CrashLoopBackOff']);
  });

  it('prints plain text on a terminal when NO_COLOR is set', () => {
    expect(new TableWriter(colourFor(true, { NO_COLOR: '1' })).lines([['NAME'], ['web-1']], true)).toEqual(['NAME', 'web-1']);
  });

  it('makes the header bold and a failing row red on a terminal, with the same alignment', () => {
    const writer = new TableWriter(colourFor(true));
    expect(writer.lines([['NAME', 'STATUS'], ['web-1', 'CrashLoopBackOff'], ['web-2', 'Running']], true)).toEqual([
      '\x1b[1mNAME    STATUS\x1b[0m',
      '\x1b[31mweb-1   CrashLoopBackOff\x1b[0m',
      'web-2   Running',
    ]);
  });
});

const pods = resolveResource('pods') as ResourceInfo;
const deployments = resolveResource('deploy') as ResourceInfo;

describe('-o json, yaml and name', () => {
  const pod = { status: { phase: 'Running' }, spec: { containers: [{ name: 'web', image: 'nginx' }] }, metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' }, resourceVersion: '12' }, kind: 'Pod', apiVersion: 'v1' };

  it('writes YAML with sorted keys, sequences flush with their key, and quoted strings a YAML 1.1 reader would misread', () => {
    expect(toYaml({ ...pod, metadata: { ...pod.metadata, annotations: { enabled: 'yes', mode: '0755' }, creationTimestamp: '2026-11-26T21:53:06Z' } })).toBe(
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata:',
        '  annotations:',
        '    enabled: "yes"',
        '    mode: "0755"',
        '  creationTimestamp: "2026-11-26T21:53:06Z"',
        '  labels:',
        '    app: web',
        '  name: web-1',
        '  namespace: default',
        '  resourceVersion: "12"',
        'spec:',
        '  containers:',
        '  - image: nginx',
        '    name: web',
        'status:',
        '  phase: Running',
        '',
      ].join('\n'),
    );
  });

  it('wraps several objects in a v1 List, as kubectl does', () => {
    expect(toYaml(listOf([pod]))).toMatch(/^apiVersion: v1\nitems:\n- apiVersion: v1\n {2}kind: Pod\n[\s\S]*\nkind: List\nmetadata:\n {2}resourceVersion: ""\n$/);
  });

  it('writes JSON as Go\'s encoder does: four spaces, keys sorted, HTML characters escaped', () => {
    const json = toJson(pod);
    expect(json.split('\n').slice(0, 4)).toEqual(['{', '    "apiVersion": "v1",', '    "kind": "Pod",', '    "metadata": {']);
    expect(Object.keys(JSON.parse(json) as object)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    // Go's encoder sorts a map's keys at every level and escapes HTML characters.
    expect(toJson({ b: '<none> & more', a: { z: 1, y: 2 } })).toBe('{\n    "a": {\n        "y": 2,\n        "z": 1\n    },\n    "b": "\\u003cnone\\u003e \\u0026 more"\n}\n');
  });

  it('names objects by singular and group: pod/web-1, deployment.apps/web', () => {
    expect(nameOf(pods, 'web-1')).toBe('pod/web-1');
    expect(nameOf(deployments, 'web')).toBe('deployment.apps/web');
  });

  it('formats labels sorted, <none> when there are none', () => {
    expect(formatLabels({ tier: 'fe', app: 'web' })).toBe('app=web,tier=fe');
    expect(formatLabels(undefined)).toBe('<none>');
  });
});

describe('describe text', () => {
  it('prints times as RFC 1123 with a numeric zone, as kubectl', () => {
    expect(describeTime('2026-11-26T21:53:06Z')).toBe('Thu, 26 Nov 2026 21:53:06 +0000');
    expect(describeTime(undefined)).toBe('<unset>');
  });

  it('prints maps one entry per line under the first', () => {
    const text = new DescribeText();
    text.line(0, 'Name:', 'web-1');
    text.map(0, 'Labels:', { tier: 'fe', app: 'web' });
    text.map(0, 'Annotations:', {}, ': ');
    expect(text.toString()).toBe(['Name:         web-1', 'Labels:       app=web', '              tier=fe', 'Annotations:  <none>', ''].join('\n'));
  });

  it('prints events oldest first with kubectl ages, and <none> when there are none', () => {
    const now = Date.parse('2026-11-26T22:00:00Z');
    const event = (reason: string, last: string, count: number, first = last) => ({
      metadata: { name: reason },
      involvedObject: { kind: 'Pod', name: 'web-1' },
      type: 'Normal' as const,
      reason,
      message: `${reason} happened `,
      source: { component: 'kubelet' },
      firstTimestamp: first,
      lastTimestamp: last,
      count,
    });
    const text = new DescribeText();
    describeEvents(text, [event('Started', '2026-11-26T21:59:55Z', 1), event('Pulled', '2026-11-26T21:57:00Z', 4, '2026-11-26T21:50:00Z')], now);
    expect(text.toString().split('\n')).toEqual([
      'Events:',
      '  Type    Reason   Age               From     Message',
      '  ----    ------   ----              ----     -------',
      '  Normal  Pulled   3m (x4 over 10m)  kubelet  Pulled happened',
      '  Normal  Started  5s                kubelet  Started happened',
      '',
    ]);
    const empty = new DescribeText();
    describeEvents(empty, [], now);
    expect(empty.toString()).toBe('Events:  <none>\n');
    expect(eventAge(event('x', '2026-11-26T21:58:00Z', 1), now)).toBe('2m');
  });
});

describe('JSONPath templates as kubectl evaluates them', () => {
  const list = {
    kind: 'List',
    items: [
      { metadata: { name: 'web-1', labels: { app: 'web', 'app.kubernetes.io/name': 'shop' } }, status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }], restarts: 3 } },
      { metadata: { name: 'web-2', labels: { app: 'web' } }, status: { conditions: [{ type: 'Ready', status: 'False' }], restarts: 0 } },
    ],
  };
  const run = (template: string, value: unknown = list) => executeJsonPath(parseJsonPath(template), value);

  it('selects fields, indexes (negative too) and every element, joined by spaces', () => {
    expect(run('{.items[*].metadata.name}')).toBe('web-1 web-2');
    expect(run('{.items[0].metadata.name}/{.items[-1].metadata.name}')).toBe('web-1/web-2');
    expect(run("{.items[0].metadata.labels['app.kubernetes.io/name']}")).toBe('shop');
    expect(run('{$.kind}')).toBe('List');
  });

  it('ranges with literals, filters by comparison, prints maps as JSON and missing keys as nothing', () => {
    expect(run('{range .items[*]}{.metadata.name}{"\\t"}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}')).toBe('web-1\tTrue\nweb-2\tFalse\n');
    expect(run('{.items[?(@.status.restarts > 1)].metadata.name}')).toBe('web-1');
    expect(run('{.items[?(@.metadata.labels.tier)].metadata.name}')).toBe('');
    expect(run('{.items[1].metadata.labels}')).toBe('{"app":"web"}');
    expect(run('name={.items[0].metadata.nothing}.')).toBe('name=.');
  });

  it('refuses a template it cannot parse, naming it', () => {
    expect(() => parseJsonPath('{range .items[*]}{.a}')).toThrow('error parsing jsonpath {range .items[*]}{.a}: unclosed range (missing {end})');
    expect(() => parseJsonPath('{.a}{end}')).toThrow('not in range, nothing to end');
    expect(() => parseJsonPath('{.a[}')).toThrow('error parsing jsonpath {.a[}: unrecognized character in "["');
    expect(() => parseJsonPath('{.a')).toThrow('unclosed action');
  });

  it('prints values in custom-columns as Go prints them', () => {
    expect(goValueText({ b: 2, a: ['x', 'y'] })).toBe('map[a:[x y] b:2]');
    expect(goValueText('text')).toBe('text');
  });
});
