// The resource registry: the names, short names, scopes and subresources discovery and kubectl need.

import { describe, expect, it } from 'vitest';
import {
  groupVersionOf,
  parseApiVersion,
  qualifiedKind,
  qualifiedResource,
  resolveResource,
  resourceByKind,
  resourceByName,
  resources,
  servedGroupVersions,
} from '../src/index.js';

describe('the resource registry', () => {
  it('has the short names kubectl users type', () => {
    const shortNames = Object.fromEntries(resources.filter((r) => r.shortNames.length > 0).map((r) => [r.resource, r.shortNames]));
    expect(shortNames).toEqual({
      configmaps: ['cm'],
      endpoints: ['ep'],
      events: ['ev'],
      namespaces: ['ns'],
      nodes: ['no'],
      pods: ['po'],
      services: ['svc'],
      daemonsets: ['ds'],
      deployments: ['deploy'],
      replicasets: ['rs'],
      statefulsets: ['sts'],
    });
  });

  it('knows which resources are cluster-scoped', () => {
    expect(resources.filter((r) => !r.namespaced).map((r) => r.resource)).toEqual(['namespaces', 'nodes']);
  });

  it('serves each group version discovery lists, core first', () => {
    expect(servedGroupVersions().map(groupVersionOf)).toEqual(['v1', 'apps/v1', 'batch/v1', 'coordination.k8s.io/v1']);
  });

  it('gives deployments a scale subresource of kind autoscaling/v1 Scale, and pods binding and status', () => {
    const deployments = resourceByName('apps', 'deployments');
    expect(deployments?.subresources.find((s) => s.name === 'scale')).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    const pods = resourceByName('', 'pods');
    expect(pods?.subresources.map((s) => s.name)).toEqual(['status', 'binding', 'log']);
    expect(pods?.verbs).toEqual(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
  });

  it('finds a resource by apiVersion and kind, and not across groups', () => {
    expect(resourceByKind('apps/v1', 'Deployment')?.resource).toBe('deployments');
    expect(resourceByKind('v1', 'Deployment')).toBeUndefined();
    expect(resourceByKind('batch/v1', 'Job')).toMatchObject({ listKind: 'JobList', singular: 'job', tracksGeneration: true });
  });

  it('resolves what kubectl users type: plural, singular, short name, kind, group-qualified', () => {
    for (const word of ['deployments', 'deployment', 'deploy', 'Deployment', 'deployments.apps']) {
      expect(resolveResource(word)?.resource, word).toBe('deployments');
    }
    expect(resolveResource('po')?.kind).toBe('Pod');
    expect(resolveResource('deployments.batch')).toBeUndefined();
  });

  it('names resources and kinds with their group as Kubernetes messages do', () => {
    expect(qualifiedResource({ group: '', resource: 'pods' })).toBe('pods');
    expect(qualifiedResource({ group: 'apps', resource: 'deployments' })).toBe('deployments.apps');
    expect(qualifiedKind({ group: 'apps', kind: 'Deployment' })).toBe('Deployment.apps');
    expect(parseApiVersion('coordination.k8s.io/v1')).toEqual({ group: 'coordination.k8s.io', version: 'v1' });
  });
});
