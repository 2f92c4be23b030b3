// Toleration matching follows core/v1 ToleratesTaint: key, operator, value and effect rules.

import { describe, expect, test } from 'vitest';
import { findUntoleratedTaint, toleratesTaint, type Taint, type Toleration } from '../src/index.js';

const taint: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };

describe('toleratesTaint', () => {
  test.each<[string, Toleration, boolean]>([
    ['Equal with the same key, value and effect', { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, true],
    ['no operator means Equal', { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, true],
    ['Equal with another value', { key: 'dedicated', operator: 'Equal', value: 'cpu', effect: 'NoSchedule' }, false],
    ['Equal with no value against a valued taint', { key: 'dedicated', operator: 'Equal', effect: 'NoSchedule' }, false],
    ['Exists ignores the value', { key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }, true],
    ['an empty effect matches every effect', { key: 'dedicated', operator: 'Exists' }, true],
    ['another effect does not match', { key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, false],
    ['another key does not match', { key: 'other', operator: 'Exists' }, false],
    ['empty key with Exists tolerates everything', { operator: 'Exists' }, true],
    ['empty key with Exists and an effect tolerates that effect only', { operator: 'Exists', effect: 'NoExecute' }, false],
  ])('%s', (_name, toleration, expected) => {
    expect(toleratesTaint(toleration, taint)).toBe(expected);
  });

  test('a taint without value is matched by Equal with an empty value', () => {
    expect(toleratesTaint({ key: 'k', operator: 'Equal', value: '' }, { key: 'k', effect: 'NoExecute' })).toBe(true);
  });
});

describe('findUntoleratedTaint', () => {
  const taints: Taint[] = [
    { key: 'soft', effect: 'PreferNoSchedule' },
    { key: 'a', value: '1', effect: 'NoSchedule' },
    { key: 'b', value: '2', effect: 'NoExecute' },
  ];

  test('returns the first NoSchedule/NoExecute taint no toleration covers, ignoring PreferNoSchedule', () => {
    expect(findUntoleratedTaint(taints, [], ['NoSchedule', 'NoExecute'])).toEqual(taints[1]);
    expect(findUntoleratedTaint(taints, [{ key: 'a', operator: 'Exists' }], ['NoSchedule', 'NoExecute'])).toEqual(taints[2]);
    expect(findUntoleratedTaint(taints, [{ key: 'a', operator: 'Exists' }, { key: 'b', value: '2' }], ['NoSchedule', 'NoExecute'])).toBeUndefined();
  });
});
