// Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), which
// kubectl 1.2x+ uses for the objects it builds itself (`kubectl create namespace|configmap|
// secret|deployment|service|job`): the `k8s\0` envelope around a runtime.Unknown, whose raw bytes
// are the object. Decoded to the same JSON the API takes, for the fields those commands send;
// any other field is refused with a 415 that names it, so nothing is silently dropped.
// Field numbers are those of Kubernetes' generated.proto files.

import { StatusError } from '@raftplane/api';

type FieldKind = 'string' | 'int' | 'bool' | 'bytes' | 'time' | 'quantity' | 'intOrString';
interface FieldSpec {
  readonly name: string;
  /** A scalar kind, or the name of a message in `messages`. */
  readonly type: FieldKind | string;
  readonly repeated?: boolean;
  /** A map<string, value>: the entries' value kind (a scalar or a message). */
  readonly mapOf?: FieldKind | string;
}
type MessageSpec = Readonly<Record<number, FieldSpec>>;

const s = (name: string): FieldSpec => ({ name, type: 'string' });
const i = (name: string): FieldSpec => ({ name, type: 'int' });
const b = (name: string): FieldSpec => ({ name, type: 'bool' });
const m = (name: string, type: string): FieldSpec => ({ name, type });
const list = (name: string, type: string): FieldSpec => ({ name, type, repeated: true });
const map = (name: string, of: FieldKind | string): FieldSpec => ({ name, type: 'map', mapOf: of });

const messages: Readonly<Record<string, MessageSpec>> = {
  TypeMeta: { 1: s('apiVersion'), 2: s('kind') },
  Unknown: { 1: m('typeMeta', 'TypeMeta'), 2: { name: 'raw', type: 'bytes' }, 3: s('contentEncoding'), 4: s('contentType') },
  ObjectMeta: {
    1: s('name'), 2: s('generateName'), 3: s('namespace'), 5: s('uid'), 6: s('resourceVersion'), 7: i('generation'),
    8: { name: 'creationTimestamp', type: 'time' }, 11: map('labels', 'string'), 12: map('annotations', 'string'),
    13: list('ownerReferences', 'OwnerReference'), 14: { name: 'finalizers', type: 'string', repeated: true },
  },
  OwnerReference: { 1: s('kind'), 3: s('name'), 4: s('uid'), 5: s('apiVersion'), 6: b('controller'), 7: b('blockOwnerDeletion') },
  Namespace: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'NamespaceSpec'), 3: m('status', 'NamespaceStatus') },
  NamespaceSpec: { 1: { name: 'finalizers', type: 'string', repeated: true } },
  NamespaceStatus: { 1: s('phase') },
  ConfigMap: { 1: m('metadata', 'ObjectMeta'), 2: map('data', 'string'), 3: map('binaryData', 'bytes'), 4: b('immutable') },
  Secret: { 1: m('metadata', 'ObjectMeta'), 2: map('data', 'bytes'), 3: s('type'), 4: map('stringData', 'string'), 5: b('immutable') },
  LabelSelector: { 1: map('matchLabels', 'string'), 2: list('matchExpressions', 'LabelSelectorRequirement') },
  LabelSelectorRequirement: { 1: s('key'), 2: s('operator'), 3: { name: 'values', type: 'string', repeated: true } },
  Deployment: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'DeploymentSpec'), 3: m('status', 'Empty') },
  DeploymentSpec: {
    1: i('replicas'), 2: m('selector', 'LabelSelector'), 3: m('template', 'PodTemplateSpec'), 4: m('strategy', 'DeploymentStrategy'),
    5: i('minReadySeconds'), 6: i('revisionHistoryLimit'), 7: b('paused'), 9: i('progressDeadlineSeconds'),
  },
  DeploymentStrategy: { 1: s('type'), 2: m('rollingUpdate', 'RollingUpdateDeployment') },
  RollingUpdateDeployment: { 1: { name: 'maxUnavailable', type: 'intOrString' }, 2: { name: 'maxSurge', type: 'intOrString' } },
  Job: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'JobSpec'), 3: m('status', 'Empty') },
  JobSpec: {
    1: i('parallelism'), 2: i('completions'), 3: i('activeDeadlineSeconds'), 4: m('selector', 'LabelSelector'), 5: b('manualSelector'),
    6: m('template', 'PodTemplateSpec'), 7: i('backoffLimit'), 8: i('ttlSecondsAfterFinished'),
  },
  PodTemplateSpec: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'PodSpec') },
  PodSpec: {
    2: list('containers', 'Container'), 3: s('restartPolicy'), 4: i('terminationGracePeriodSeconds'), 5: i('activeDeadlineSeconds'),
    6: s('dnsPolicy'), 7: map('nodeSelector', 'string'), 8: s('serviceAccountName'), 10: s('nodeName'), 11: b('hostNetwork'),
    20: list('initContainers', 'Container'), 22: list('tolerations', 'Toleration'),
  },
  Toleration: { 1: s('key'), 2: s('operator'), 3: s('value'), 4: s('effect'), 5: i('tolerationSeconds') },
  Container: {
    1: s('name'), 2: s('image'), 3: { name: 'command', type: 'string', repeated: true }, 4: { name: 'args', type: 'string', repeated: true },
    5: s('workingDir'), 6: list('ports', 'ContainerPort'), 7: list('env', 'EnvVar'), 8: m('resources', 'ResourceRequirements'),
    13: s('terminationMessagePath'), 14: s('imagePullPolicy'), 20: s('terminationMessagePolicy'),
  },
  ContainerPort: { 1: s('name'), 2: i('hostPort'), 3: i('containerPort'), 4: s('protocol'), 5: s('hostIP') },
  EnvVar: { 1: s('name'), 2: s('value') },
  ResourceRequirements: { 1: map('limits', 'quantity'), 2: map('requests', 'quantity') },
  Quantity: { 1: s('string') },
  Service: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'ServiceSpec'), 3: m('status', 'Empty') },
  ServiceSpec: { 1: list('ports', 'ServicePort'), 2: map('selector', 'string'), 3: s('clusterIP'), 4: s('type'), 18: { name: 'clusterIPs', type: 'string', repeated: true } },
  ServicePort: { 1: s('name'), 2: s('protocol'), 3: i('port'), 4: { name: 'targetPort', type: 'intOrString' }, 5: i('nodePort') },
  IntOrString: { 1: i('type'), 2: i('intVal'), 3: s('strVal') },
  /** Statuses kubectl sends empty (`status: {}`): any field in them is refused. */
  Empty: {},
  MapEntry: {},
};

/** The message type of each kind whose protobuf body is understood. */
const kinds: Readonly<Record<string, string>> = { Namespace: 'Namespace', ConfigMap: 'ConfigMap', Secret: 'Secret', Deployment: 'Deployment', Job: 'Job', Service: 'Service' };

function unsupported(message: string): StatusError {
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the protobuf body cannot be decoded: ${message}; send it as application/json`, reason: 'UnsupportedMediaType', code: 415 });
}

class Reader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array, private readonly end = bytes.length) {}
  done(): boolean {
    return this.offset >= this.end;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.offset >= this.end) throw unsupported('a varint runs past the end of its message');
      const byte = this.bytes[this.offset++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw unsupported('a varint is longer than 10 bytes');
    }
  }
  bytesField(): Uint8Array {
    const length = Number(this.varint());
    if (this.offset + length > this.end) throw unsupported('a length-delimited field runs past the end of its message');
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.offset += 8;
    else if (wireType === 2) this.bytesField();
    else if (wireType === 5) this.offset += 4;
    else throw unsupported(`wire type ${wireType} is not supported`);
  }
}

const text = new TextDecoder('utf-8', { fatal: true });

function scalar(kind: FieldKind, wireType: number, reader: Reader, where: string): unknown {
  switch (kind) {
    case 'string':
      if (wireType !== 2) throw unsupported(`${where}: expected a string`);
      return text.decode(reader.bytesField());
    case 'bytes':
      if (wireType !== 2) throw unsupported(`${where}: expected bytes`);
      return Buffer.from(reader.bytesField()).toString('base64');
    case 'int': {
      if (wireType !== 0) throw unsupported(`${where}: expected an integer`);
      return Number(BigInt.asIntN(64, reader.varint()));
    }
    case 'bool':
      if (wireType !== 0) throw unsupported(`${where}: expected a boolean`);
      return reader.varint() !== 0n;
    case 'time': {
      const time = decodeMessage(reader.bytesField(), { 1: i('seconds'), 2: i('nanos') }, where) as { seconds?: number };
      return time.seconds ? new Date(time.seconds * 1000).toISOString().replace('.000Z', 'Z') : undefined;
    }
    case 'quantity':
      return (decodeMessage(reader.bytesField(), messages['Quantity']!, where) as { string?: string }).string ?? '0';
    case 'intOrString': {
      const value = decodeMessage(reader.bytesField(), messages['IntOrString']!, where) as { type?: number; intVal?: number; strVal?: string };
      return value.type === 1 ? (value.strVal ?? '') : (value.intVal ?? 0);
    }
  }
}

function isScalar(type: string): type is FieldKind {
  return ['string', 'int', 'bool', 'bytes', 'time', 'quantity', 'intOrString'].includes(type);
}

function decodeMessage(bytes: Uint8Array, spec: MessageSpec, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const reader = new Reader(bytes);
  while (!reader.done()) {
    const key = Number(reader.varint());
    const number = key >>> 3;
    const wireType = key & 7;
    const field = spec[number];
    if (field === undefined) {
      // Kubernetes' encoder writes every non-pointer field, set or not: an unknown field holding
      // its zero value (0, "", an empty message) says nothing and is passed over; any other is refused.
      const zero = wireType === 0 ? reader.varint() === 0n : wireType === 2 ? reader.bytesField().length === 0 : false;
      if (!zero) throw unsupported(`${where}: field ${number} is not supported`);
      continue;
    }
    const path = `${where}.${field.name}`;
    let value: unknown;
    if (field.mapOf !== undefined) {
      const entry = reader.bytesField();
      const entryReader = new Reader(entry);
      let k = '';
      let v: unknown = isScalar(field.mapOf) ? (field.mapOf === 'string' ? '' : undefined) : {};
      while (!entryReader.done()) {
        const entryKey = Number(entryReader.varint());
        if (entryKey >>> 3 === 1) k = scalar('string', entryKey & 7, entryReader, path) as string;
        else if (entryKey >>> 3 === 2) v = isScalar(field.mapOf) ? scalar(field.mapOf, entryKey & 7, entryReader, `${path}[${k}]`) : decodeMessage(entryReader.bytesField(), messages[field.mapOf]!, `${path}[${k}]`);
        else entryReader.skip(entryKey & 7);
      }
      const target = (out[field.name] ??= {}) as Record<string, unknown>;
      target[k] = v ?? '';
      continue;
    }
    if (isScalar(field.type)) value = scalar(field.type, wireType, reader, path);
    else {
      const nested = messages[field.type];
      if (nested === undefined) throw new Error(`protobuf schema: no message ${field.type}`);
      if (wireType !== 2) throw unsupported(`${path}: expected a message`);
      value = decodeMessage(reader.bytesField(), nested, path);
    }
    if (field.repeated === true) ((out[field.name] ??= []) as unknown[]).push(value);
    // An empty string or an unset time is Go's zero value: absent, as JSON's omitempty would have it.
    else if (value !== '' && value !== undefined) out[field.name] = value;
  }
  return out;
}

const magic = [0x6b, 0x38, 0x73, 0x00];

/** The JSON form of a protobuf request body: `k8s\0` + runtime.Unknown{typeMeta, raw}. */
export function decodeProtobufObject(body: Uint8Array): Record<string, unknown> {
  if (body.length < 4 || magic.some((byte, k) => body[k] !== byte)) throw unsupported('it does not start with the k8s\\0 envelope');
  const unknown = decodeMessage(body.subarray(4), messages['Unknown']!, 'Unknown') as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: string; contentEncoding?: string };
  const kind = unknown.typeMeta?.kind ?? '';
  const messageName = kinds[kind];
  if (messageName === undefined) throw unsupported(`kind ${JSON.stringify(kind)} is not among those decoded from protobuf (${Object.keys(kinds).join(', ')})`);
  if (unknown.contentEncoding) throw unsupported(`content encoding ${unknown.contentEncoding} is not supported`);
  const object = decodeMessage(Buffer.from(unknown.raw ?? '', 'base64'), messages[messageName]!, kind);
  return { apiVersion: unknown.typeMeta?.apiVersion, kind, ...object };
}
