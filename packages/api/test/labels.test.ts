// Label selectors: the string parser (cases from k8s.io/apimachinery/pkg/labels/selector_test.go),
// matching, the object form (LabelSelectorAsSelector, ParseToLabelSelector), and round trips.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LabelSelectorError,
  labelSelectorAsSelector,
  labelSelectorMatches,
  labelSelectorObjectToString,
  labelSelectorToString,
  matchesLabels,
  parseLabelSelector,
  selectorToLabelSelector,
  labelSelectorFromSet,
} from '../src/index.js';

describe('parseLabelSelector accepts what Kubernetes accepts', () => {
  it.each([
    ['', ''],
    ['   ', ''],
    ['x=a', 'x=a'],
    ['x==a', 'x==a'],
    ['x=a,y!=b', 'x=a,y!=b'],
    ['x = a , y != b', 'x=a,y!=b'],
    ['x=', 'x='],
    ['x= ', 'x='],
    ['x=,z= ', 'x=,z='],
    ['x in (a,b)', 'x in (a,b)'],
    ['x in (b, a, a)', 'x in (a,b)'],
    ['x notin (z)', 'x notin (z)'],
    ['x in (,a)', 'x in (,a)'],
    ['x in (a,)', 'x in (,a)'],
    ['x in (a,,b)', 'x in (,a,b)'],
    ['x in (,)', 'x in (,)'],
    ['g', 'g'],
    ['!h', '!h'],
    ['x>1', 'x>1'],
    ['x<-1', 'x<-1'],
    ['a=b,c!=d,e in (x,y),f notin (z),g,!h', 'a=b,c!=d,e in (x,y),f notin (z),g,!h'],
    ['z=1,a=2', 'a=2,z=1'],
    ['example.com/app=web', 'example.com/app=web'],
    ['x=in', 'x=in'],
  ])('%j reads as %j', (text, normalized) => {
    expect(labelSelectorToString(parseLabelSelector(text))).toBe(normalized);
  });
});

describe('parseLabelSelector rejects bad input, naming the offset and what was expected', () => {
  it.each([
    ['x=a||y=b', /offset 2: label value "a\|\|y"/],
    ['x==a==b', /offset 4: found '==', expected: ',' or 'end of string'/],
    ['!x=a', /offset 2: found '=', expected: ',' or 'end of string'/],
    ['x,', /offset 2: found end of string, expected: identifier after ','/],
    [',x', /offset 0: found ',', expected: !, identifier/],
    ['x in', /offset 4: found end of string, expected: '\(' after/],
    ['x in (a', /found end of string, expected: ',' or '\)'/],
    ['x in ()', /values set can't be empty/],
    ['x in (a b)', /found 'b', expected: ',' or '\)'/],
    ['x (a)', /found '\(', expected: one of '='/],
    ['x=a b', /found 'b', expected: ',' or 'end of string'/],
    ['x>a', /must be an integer/],
    ['-x=a', /label key "-x"/],
    ['a/b/c=d', /more than one "\/"/],
    ['Example.com/x=1', /prefix that is not a lowercase DNS subdomain/],
    [`x=${'a'.repeat(64)}`, /longer than 63/],
    ['x=a$', /label value "a\$"/],
    ['x!', /found end of string, expected: identifier|found '!'/],
  ])('%j', (text, message) => {
    expect(() => parseLabelSelector(text)).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector(text)).toThrow(message);
  });

  it('carries a stable code', () => {
    try {
      parseLabelSelector('x in (');
      expect.unreachable();
    } catch (error) {
      expect((error as LabelSelectorError).code).toBe('LABEL_SELECTOR_INVALID');
    }
  });
});

describe('matchesLabels', () => {
  const labels = { app: 'web', tier: 'front', version: '3' };
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (db,web)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['version>2', true],
    ['version<3', false],
    ['app>1', false],
    ['missing=', false],
    ['app=web,tier=back', false],
    ['app=web,tier=front,!missing', true],
  ])('%j on app=web,tier=front,version=3 is %s', (text, expected) => {
    expect(matchesLabels(parseLabelSelector(text), labels)).toBe(expected);
  });

  it('an empty label value matches "key=" but absent labels do not', () => {
    expect(matchesLabels(parseLabelSelector('a='), { a: '' })).toBe(true);
    expect(matchesLabels(parseLabelSelector('a='), undefined)).toBe(false);
  });
});

describe('metav1.LabelSelector', () => {
  it('null and undefined match nothing; {} matches everything', () => {
    expect(labelSelectorMatches(null, { a: 'b' })).toBe(false);
    expect(labelSelectorMatches(undefined, {})).toBe(false);
    expect(labelSelectorMatches({}, { a: 'b' })).toBe(true);
    expect(labelSelectorMatches({ matchLabels: {}, matchExpressions: [] }, undefined)).toBe(true);
  });

  it('matchLabels and matchExpressions are ANDed', () => {
    const selector = {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In' as const, values: ['front', 'edge'] },
        { key: 'canary', operator: 'DoesNotExist' as const },
      ],
    };
    expect(labelSelectorMatches(selector, { app: 'web', tier: 'edge' })).toBe(true);
    expect(labelSelectorMatches(selector, { app: 'web', tier: 'edge', canary: 'yes' })).toBe(false);
    expect(labelSelectorMatches(selector, { app: 'db', tier: 'edge' })).toBe(false);
    expect(labelSelectorObjectToString(selector)).toBe('app=web,!canary,tier in (edge,front)');
  });

  it.each([
    [{ matchExpressions: [{ key: 'a', operator: 'In' as const, values: [] }] }, /values set can't be empty/],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn' as const }] }, /values set can't be empty/],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists' as const, values: ['x'] }] }, /values set must be empty/],
    [{ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' as const, values: ['x'] }] }, /values set must be empty/],
    [{ matchExpressions: [{ key: 'a', operator: 'Gt' as never, values: ['1'] }] }, /"Gt" is not a valid label selector operator/],
    [{ matchLabels: { 'bad key': 'x' } }, /label key "bad key"/],
  ])('rejects %j', (selector, message) => {
    expect(() => labelSelectorAsSelector(selector)).toThrow(message);
  });

  it('ParseToLabelSelector: = to matchLabels, != to NotIn, Gt has no object form', () => {
    expect(selectorToLabelSelector(parseLabelSelector('a=b,c!=d,e in (x,y),f notin (z),g,!h'))).toEqual({
      matchLabels: { a: 'b' },
      matchExpressions: [
        { key: 'c', operator: 'NotIn', values: ['d'] },
        { key: 'e', operator: 'In', values: ['x', 'y'] },
        { key: 'f', operator: 'NotIn', values: ['z'] },
        { key: 'g', operator: 'Exists' },
        { key: 'h', operator: 'DoesNotExist' },
      ],
    });
    expect(() => selectorToLabelSelector(parseLabelSelector('a>1'))).toThrow(/no metav1.LabelSelector form/);
    expect(() => labelSelectorToString(labelSelectorAsSelector(null))).toThrow(/matches nothing/);
  });

  it('SelectorFromSet sorts by key', () => {
    expect(labelSelectorToString(labelSelectorFromSet({ b: '2', a: '1' }))).toBe('a=1,b=2');
  });
});

const key = fc.constantFrom('a', 'b', 'app', 'example.com/tier', 'x-y');
const value = fc.constantFrom('', 'v', 'w', 'web', '1', '12');
const labelSet = fc.dictionary(key, value);
const expression = fc.oneof(
  fc.record({ key, operator: fc.constantFrom('In' as const, 'NotIn' as const), values: fc.array(value, { minLength: 1, maxLength: 3 }) }),
  fc.record({ key, operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
);
const objectSelector = fc.record({ matchLabels: labelSet, matchExpressions: fc.array(expression, { maxLength: 4 }) }, { requiredKeys: [] });

describe('round trips, by fast-check', () => {
  it('object -> string -> parse matches exactly the same label sets', () => {
    fc.assert(
      fc.property(objectSelector, labelSet, (selector, labels) => {
        const reparsed = parseLabelSelector(labelSelectorObjectToString(selector));
        expect(matchesLabels(reparsed, labels)).toBe(labelSelectorMatches(selector, labels));
      }),
    );
  });

  it('parse -> string -> parse is stable, and -> object -> selector matches the same', () => {
    fc.assert(
      fc.property(objectSelector, labelSet, (selector, labels) => {
        const text = labelSelectorObjectToString(selector);
        expect(labelSelectorToString(parseLabelSelector(text))).toBe(text);
        const viaObject = labelSelectorAsSelector(selectorToLabelSelector(parseLabelSelector(text)));
        expect(matchesLabels(viaObject, labels)).toBe(labelSelectorMatches(selector, labels));
      }),
    );
  });
});
