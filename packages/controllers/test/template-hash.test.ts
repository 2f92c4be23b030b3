// The pod-template-hash: stable, independent of key order and of its own label, changed by the template.
import { describe, expect, test } from 'vitest';
import { computeTemplateHash, fnv32a, safeEncodeString, templatesEqualIgnoringHash } from '../src/index.js';

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } };

describe('template hash', () => {
  test('FNV-32a and the safe encoding match their definitions', () => {
    expect(fnv32a(new TextEncoder().encode(''))).toBe(0x811c9dc5);
    expect(fnv32a(new TextEncoder().encode('a'))).toBe(0xe40c292c);
    expect(safeEncodeString('0123456789')).toBe('456789bcdf');
  });
  test('stable across calls and key order, blind to the hash label', () => {
    const hash = computeTemplateHash(template);
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(computeTemplateHash(structuredClone(template))).toBe(hash);
    const reordered = { spec: { containers: [{ image: 'nginx:1', name: 'c' }] }, metadata: { labels: { app: 'web' } } };
    expect(computeTemplateHash(reordered)).toBe(hash);
    const labelled = { ...template, metadata: { labels: { app: 'web', 'pod-template-hash': hash } } };
    expect(computeTemplateHash(labelled)).toBe(hash);
    expect(templatesEqualIgnoringHash(labelled, template)).toBe(true);
  });
  test('changes with the template and the collision count', () => {
    const hash = computeTemplateHash(template);
    const v2 = { ...template, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } };
    expect(computeTemplateHash(v2)).not.toBe(hash);
    expect(templatesEqualIgnoringHash(v2, template)).toBe(false);
    expect(computeTemplateHash(template, 1)).not.toBe(hash);
    expect(computeTemplateHash(template, 1)).toBe(computeTemplateHash(template, 1));
  });
});
