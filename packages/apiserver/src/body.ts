// Request bodies: JSON (and YAML for server-side apply), with errors that say what is wrong and
// where, checked against the kind the path names before anything else happens.

import { badRequestError, groupVersionOf, unsupportedMediaTypeError, type KubeObject, type ResourceInfo } from '@raftplane/api';
import { parse as parseYaml } from 'yaml';
import { decodeProtobufObject } from './protobuf-body.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

function text(body: Uint8Array | null): string {
  if (body === null || body.byteLength === 0) throw badRequestError('the request has no body: an object is required');
  try {
    return decoder.decode(body);
  } catch {
    throw badRequestError('the request body is not valid UTF-8');
  }
}

export function parseJsonBody(body: Uint8Array | null): unknown {
  const source = text(body);
  try {
    return JSON.parse(source);
  } catch (error) {
    throw badRequestError(`the body of the request is not valid JSON: ${(error as Error).message}`);
  }
}

/** `application/apply-patch+yaml`: YAML (JSON is YAML too), one document. */
export function parseYamlBody(body: Uint8Array | null): unknown {
  const source = text(body);
  try {
    return parseYaml(source, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (error) {
    throw badRequestError(`the body of the request is not valid YAML: ${(error as Error).message}`);
  }
}

/** The media type without parameters, lower case; '' when absent. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Checks a JSON body's content type for create/update (`application/json`, or none). */
export function requireJsonContent(contentType: string | undefined): void {
  const type = mediaType(contentType);
  if (type !== '' && type !== 'application/json' && type !== '*/*') throw unsupportedMediaTypeError(contentType ?? '');
}

/**
 * The object in a create or update body: a JSON object whose kind and apiVersion, when given,
 * are the ones the path names (both are filled in when missing).
 */
export function objectOf(value: unknown, info: Pick<ResourceInfo, 'kind' | 'group' | 'version'>): KubeObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequestError(`the body must be a JSON object (a ${info.kind}), got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  }
  const obj = value as Record<string, unknown>;
  const apiVersion = groupVersionOf(info);
  if (obj['kind'] !== undefined && obj['kind'] !== info.kind) {
    throw badRequestError(`the kind in the body (${JSON.stringify(obj['kind'])}) does not match the kind of the resource on the URL (${info.kind})`);
  }
  if (obj['apiVersion'] !== undefined && obj['apiVersion'] !== apiVersion) {
    throw badRequestError(`the API version in the data (${JSON.stringify(obj['apiVersion'])}) does not match the expected API version (${apiVersion})`);
  }
  const metadata = obj['metadata'];
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
    throw badRequestError('metadata: must be an object');
  }
  return { ...obj, kind: info.kind, apiVersion, metadata: { ...((metadata as object | undefined) ?? {}) } } as KubeObject;
}

/** A create or update body: JSON, or Kubernetes' protobuf for the kinds kubectl builds itself. */
export function parseObjectBody(body: Uint8Array | null, contentType: string | undefined): unknown {
  if (mediaType(contentType) === 'application/vnd.kubernetes.protobuf') {
    if (body === null || body.byteLength === 0) throw badRequestError('the request has no body: an object is required');
    return decodeProtobufObject(body);
  }
  requireJsonContent(contentType);
  return parseJsonBody(body);
}
