// Discovery documents from the registry: what kubectl reads before nearly every command.

import { describe, expect, it } from 'vitest';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, resources, servedGroupVersions, versionInfo } from '../src/index.js';

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

describe('discovery', () => {
  it('/api lists v1 and the server address', () => {
    expect(apiVersions('10.0.0.1:6443')).toEqual({
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '10.0.0.1:6443' }],
    });
  });

  it('/apis lists each named group with its preferred version', () => {
    const list = apiGroupList();
    expect(list.kind).toBe('APIGroupList');
    expect(list.apiVersion).toBe('v1');
    expect(list.groups.map((g) => g.name)).toEqual(['apps', 'batch', 'coordination.k8s.io']);
    expect(list.groups[0]).toEqual({
      name: 'apps',
      versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
    });
    expect(apiGroup('batch')).toMatchObject({ kind: 'APIGroup', name: 'batch', preferredVersion: { groupVersion: 'batch/v1' } });
    expect(apiGroup('nope')).toBeUndefined();
    expect(apiGroup('')).toBeUndefined();
  });

  it('lists every registry resource once, in its group version, with verbs and scope', () => {
    const listed = servedGroupVersions().flatMap((gv) => apiResourceList(gv.group, gv.version)?.resources.filter((r) => !r.name.includes('/')) ?? []);
    expect(listed.map((r) => r.name)).toEqual(resources.map((r) => r.resource));
    for (const r of resources) {
      const doc = listed.find((d) => d.name === r.resource);
      expect(doc).toMatchObject({ kind: r.kind, namespaced: r.namespaced, singularName: r.singular, verbs: [...r.verbs] });
    }
  });

  it('/api/v1 has pods with short name po, category all, and the pod subresources', () => {
    const v1 = apiResourceList('', 'v1');
    expect(v1).toMatchObject({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'v1' });
    const byName = new Map(v1?.resources.map((r) => [r.name, r]));
    expect(byName.get('pods')).toEqual({
      name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: allVerbs, shortNames: ['po'], categories: ['all'],
    });
    expect(byName.get('pods/status')).toEqual({ name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] });
    expect(byName.get('pods/binding')).toMatchObject({ kind: 'Binding', verbs: ['create'] });
    expect(byName.get('pods/log')).toMatchObject({ kind: 'Pod', verbs: ['get'] });
    expect(byName.get('nodes')).toMatchObject({ namespaced: false, shortNames: ['no'] });
    expect(byName.get('namespaces')?.verbs).not.toContain('deletecollection');
    expect(byName.get('bindings')).toEqual({ name: 'bindings', singularName: 'binding', namespaced: true, kind: 'Binding', verbs: ['create'] });
    expect(byName.get('secrets')).not.toHaveProperty('shortNames');
    expect(byName.get('configmaps')).not.toHaveProperty('categories');
  });

  it('/apis/apps/v1 has deploy and deployments/scale as autoscaling/v1 Scale', () => {
    const apps = apiResourceList('apps', 'v1');
    const byName = new Map(apps?.resources.map((r) => [r.name, r]));
    expect(byName.get('deployments')).toMatchObject({ kind: 'Deployment', shortNames: ['deploy'], categories: ['all'], verbs: allVerbs });
    expect(byName.get('deployments/scale')).toEqual({
      name: 'deployments/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'],
    });
    expect(byName.get('deployments/status')).not.toHaveProperty('group');
    expect(byName.get('statefulsets/scale')).toMatchObject({ kind: 'Scale' });
  });

  it('an unserved group version has no document', () => {
    expect(apiResourceList('apps', 'v1beta1')).toBeUndefined();
    expect(apiResourceList('', 'v2')).toBeUndefined();
  });

  it('/version says Kubernetes 1.20', () => {
    expect(versionInfo()).toMatchObject({ major: '1', minor: '20', gitVersion: 'v1.20.0-raftplane', platform: 'linux/amd64', compiler: 'gc' });
    expect(versionInfo({ buildDate: '2026-01-01T00:00:00Z' }).buildDate).toBe('2026-01-01T00:00:00Z');
  });
});
