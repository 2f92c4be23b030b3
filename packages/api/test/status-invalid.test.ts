// The 422 Status and the other Status errors, in the shape and wording kubectl prints.

import { describe, expect, it } from 'vitest';
import {
  alreadyExistsError,
  conflictError,
  expiredError,
  hasStatusReason,
  internalError,
  invalidObjectError,
  invalidStatus,
  notFoundError,
  required,
  tooManyRequestsError,
  tooOldResourceVersionMessage,
  validateCreate,
} from '../src/index.js';
import * as objects from './support/objects.js';

describe('the 422 Invalid Status', () => {
  it('has Kubernetes shape and message for one cause', () => {
    expect(invalidStatus({ group: '', kind: 'Pod' }, 'x', [required('spec.containers[0].image')])).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Pod "x" is invalid: spec.containers[0].image: Required value',
      reason: 'Invalid',
      details: {
        name: 'x',
        group: '',
        kind: 'Pod',
        causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[0].image' }],
      },
      code: 422,
    });
  });

  it('lists several causes in brackets, and qualifies the kind with its group', () => {
    const d = objects.deployment();
    d.spec!.replicas = -1;
    d.spec!.template!.spec!.containers[0]!.image = '';
    const error = invalidObjectError(d, validateCreate(d));
    expect(error?.status.message).toBe(
      'Deployment.apps "web" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.template.spec.containers[0].image: Required value]',
    );
    expect(error?.status.details).toMatchObject({ name: 'web', group: 'apps', kind: 'Deployment' });
    expect(error?.code).toBe(422);
    expect(hasStatusReason(error, 'Invalid')).toBe(true);
  });

  it('prints each distinct cause once', () => {
    const causes = [required('spec.ports'), required('spec.ports')];
    expect(invalidStatus({ group: '', kind: 'Service' }, 'web', causes).message).toBe('Service "web" is invalid: spec.ports: Required value');
  });

  it('is not built for a valid object', () => {
    expect(invalidObjectError(objects.pod(), [])).toBeUndefined();
  });
});

describe('the other Status errors', () => {
  it('NotFound names the resource, group-qualified, as kubectl-wire.md shows', () => {
    expect(notFoundError({ group: '', resource: 'pods' }, 'x').status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "x" not found',
      reason: 'NotFound',
      details: { name: 'x', group: '', kind: 'pods' },
      code: 404,
    });
    expect(notFoundError({ group: 'apps', resource: 'deployments' }, 'web').message).toBe('deployments.apps "web" not found');
  });

  it('AlreadyExists and Conflict are 409 with distinct reasons', () => {
    const exists = alreadyExistsError({ group: '', resource: 'pods' }, 'x');
    const conflict = conflictError({ group: 'apps', resource: 'deployments' }, 'web');
    expect([exists.code, exists.reason, exists.message]).toEqual([409, 'AlreadyExists', 'pods "x" already exists']);
    expect([conflict.code, conflict.reason]).toEqual([409, 'Conflict']);
    expect(conflict.message).toBe(
      'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect(hasStatusReason(conflict, 'AlreadyExists')).toBe(false);
  });

  it('Expired is 410 with the too-old message; 429 carries retryAfterSeconds; 500 carries its cause', () => {
    expect(expiredError(tooOldResourceVersionMessage(5, 10)).status).toMatchObject({ code: 410, reason: 'Expired', message: 'too old resource version: 5 (10)' });
    expect(tooManyRequestsError('too many requests', 1).status.details).toEqual({ retryAfterSeconds: 1 });
    expect(internalError('boom').status).toMatchObject({ code: 500, message: 'Internal error occurred: boom', details: { causes: [{ message: 'boom' }] } });
  });
});
