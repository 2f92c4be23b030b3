// Field selectors: parsing (fields.ParseSelector, with escapes), the fields each kind supports,
// and matching, including Kubernetes' "" for an unset field (spec.nodeName= selects pending pods).

import { describe, expect, it } from 'vitest';
import { FieldSelectorError, fieldSelectorToString, fieldSetOf, matchesFields, parseFieldSelector, parseFieldSelectorFor, supportedFields } from '../src/index.js';

const pod = {
  metadata: { name: 'web-1', namespace: 'prod' },
  spec: { nodeName: 'node-a', restartPolicy: 'Always', hostNetwork: true },
  status: { phase: 'Running', podIP: '10.0.0.7' },
};
const pendingPod = { metadata: { name: 'web-2', namespace: 'prod' }, spec: {}, status: { phase: 'Pending' } };

describe('parseFieldSelector', () => {
  it.each([
    ['', []],
    ['metadata.name=x', [{ field: 'metadata.name', operator: '=', value: 'x' }]],
    ['metadata.name==x', [{ field: 'metadata.name', operator: '==', value: 'x' }]],
    ['metadata.name!=x,spec.nodeName=', [
      { field: 'metadata.name', operator: '!=', value: 'x' },
      { field: 'spec.nodeName', operator: '=', value: '' },
    ]],
    ['a=b\\,c,d=e\\=f\\\\', [
      { field: 'a', operator: '=', value: 'b,c' },
      { field: 'd', operator: '=', value: 'e=f\\' },
    ]],
    ['a=b,,c=d', [{ field: 'a', operator: '=', value: 'b' }, { field: 'c', operator: '=', value: 'd' }]],
    ['a=b=c', [{ field: 'a', operator: '=', value: 'b=c' }]],
  ])('%j', (text, requirements) => {
    expect(parseFieldSelector(text).requirements).toEqual(requirements);
  });

  it.each([
    ['metadata.name', /can't understand "metadata.name" at offset 0/],
    ['a=b,c', /can't understand "c" at offset 4/],
    ['=x', /empty field name/],
    ['a=b\\', /unterminated escape sequence/],
    ['a=\\n', /invalid escape sequence '\\n'/],
  ])('rejects %j', (text, message) => {
    expect(() => parseFieldSelector(text)).toThrow(FieldSelectorError);
    expect(() => parseFieldSelector(text)).toThrow(message);
  });

  it('writes back what it reads, escapes included', () => {
    const text = 'a=b\\,c,d!=e\\=f\\\\,g==';
    expect(fieldSelectorToString(parseFieldSelector(text))).toBe(text);
  });
});

describe('matchesFields', () => {
  it.each([
    ['metadata.name=web-1', pod, true],
    ['metadata.namespace=prod,metadata.name!=web-1', pod, false],
    ['spec.nodeName=node-a', pod, true],
    ['spec.nodeName!=node-a', pod, false],
    ['spec.nodeName=', pendingPod, true],
    ['spec.nodeName=', pod, false],
    ['status.phase=Running', pod, true],
    ['status.phase!=Running', pendingPod, true],
    ['spec.hostNetwork=true', pod, true],
    ['spec.hostNetwork=false', pendingPod, true],
    ['', pod, true],
  ])('%j', (text, object, expected) => {
    expect(matchesFields(parseFieldSelector(text), object, 'Pod')).toBe(expected);
  });

  it('nodes select on spec.unschedulable, false when unset', () => {
    expect(matchesFields(parseFieldSelector('spec.unschedulable=false'), { metadata: { name: 'n' }, spec: {} }, 'Node')).toBe(true);
    expect(matchesFields(parseFieldSelector('spec.unschedulable=true'), { metadata: { name: 'n' }, spec: { unschedulable: true } }, 'Node')).toBe(true);
  });

  it('events select on involvedObject.*, type and reason', () => {
    const event = { metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'web-1', uid: 'u1' }, type: 'Warning', reason: 'BackOff', source: { component: 'agent' } };
    expect(matchesFields(parseFieldSelector('involvedObject.kind=Pod,involvedObject.name=web-1,type=Warning,reason=BackOff,source=agent'), event, 'Event')).toBe(true);
    expect(matchesFields(parseFieldSelector('involvedObject.uid=u2'), event, 'Event')).toBe(false);
  });

  it('an unsupported field is an error naming the field and the kind, in Kubernetes\' words', () => {
    expect(() => matchesFields(parseFieldSelector('spec.nodeName=x'), {}, 'Service')).toThrow(/^field label not supported: spec.nodeName \(kind Service supports metadata.name, metadata.namespace\)$/);
    expect(() => parseFieldSelectorFor('spec.foo=x', 'Pod')).toThrow(/field label not supported: spec.foo \(kind Pod/);
    expect(() => parseFieldSelectorFor('status.phase=x', 'Widget')).toThrow(FieldSelectorError);
    expect(parseFieldSelectorFor('metadata.name=x', 'Widget').requirements).toHaveLength(1);
  });

  it('fieldSetOf lists every supported field as a string', () => {
    expect(fieldSetOf(pendingPod, 'Pod')).toMatchObject({ 'metadata.name': 'web-2', 'spec.nodeName': '', 'status.phase': 'Pending', 'spec.hostNetwork': 'false' });
    expect(Object.keys(fieldSetOf({}, 'Pod'))).toEqual(supportedFields('Pod'));
  });
});
