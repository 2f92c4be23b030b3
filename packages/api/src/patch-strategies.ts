// The strategic merge patch schema: for each kind, the fields whose lists merge (by a key, or as a
// set of primitives) or whose maps carry $retainKeys, from the patchStrategy / patchMergeKey tags
// in k8s.io/api. A field not listed is atomic if a list (replaced whole) and merged if a map, which
// is also what every unknown kind (a CRD) gets. Adding a field is one line in a table below.

/** How one field merges. Paths are field names joined by ".", list elements adding no segment. */
export type FieldPatchStrategy =
  /** A list merged by `mergeKey` (maps) or as a set union (primitives, no key); `retainKeys` makes diffs list each element's keys. */
  | { readonly strategy: 'merge'; readonly mergeKey?: string; readonly retainKeys?: boolean }
  /** A list or map replaced whole (atomic). */
  | { readonly strategy: 'replace' }
  /** A map merged, whose diffs carry `$retainKeys` so keys the modified object drops are cleared. */
  | { readonly strategy: 'retainKeys' };

export type PatchStrategyTable = Readonly<Record<string, FieldPatchStrategy>>;

const mergeBy = (mergeKey: string, options: { retainKeys?: boolean } = {}): FieldPatchStrategy => ({ strategy: 'merge', mergeKey, ...options });
const mergeSet: FieldPatchStrategy = { strategy: 'merge' };
const atomic: FieldPatchStrategy = { strategy: 'replace' };
const retainKeys: FieldPatchStrategy = { strategy: 'retainKeys' };

function under(prefix: string, table: PatchStrategyTable): PatchStrategyTable {
  return Object.fromEntries(Object.entries(table).map(([path, strategy]) => [`${prefix}.${path}`, strategy]));
}

const objectMeta: PatchStrategyTable = {
  finalizers: mergeSet,
  ownerReferences: mergeBy('uid'),
};

const container: PatchStrategyTable = {
  ports: mergeBy('containerPort'),
  env: mergeBy('name'),
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
};

const podSpec: PatchStrategyTable = {
  containers: mergeBy('name'),
  ...under('containers', container),
  initContainers: mergeBy('name'),
  ...under('initContainers', container),
  ephemeralContainers: mergeBy('name'),
  ...under('ephemeralContainers', container),
  volumes: mergeBy('name', { retainKeys: true }),
  imagePullSecrets: mergeBy('name'),
  hostAliases: mergeBy('ip'),
  topologySpreadConstraints: mergeBy('topologyKey'),
  schedulingGates: mergeBy('name'),
  resourceClaims: mergeBy('name', { retainKeys: true }),
  // No patch strategy in k8s.io/api: a tolerations patch replaces the list.
  tolerations: atomic,
};

const podTemplate = (prefix: string): PatchStrategyTable => ({ ...under(`${prefix}.metadata`, objectMeta), ...under(`${prefix}.spec`, podSpec) });

const conditions: PatchStrategyTable = { 'status.conditions': mergeBy('type') };

/** Every kind's table; metadata of the object itself is added to each below. */
const byKind: Readonly<Record<string, PatchStrategyTable>> = {
  Pod: { ...under('spec', podSpec), ...conditions, 'status.podIPs': mergeBy('ip'), 'status.hostIPs': mergeBy('ip') },
  PodTemplate: podTemplate('template'),
  Node: { 'spec.podCIDRs': mergeSet, 'spec.taints': atomic, ...conditions, 'status.addresses': mergeBy('type') },
  Service: { 'spec.ports': mergeBy('port'), ...conditions },
  Namespace: conditions,
  PersistentVolumeClaim: conditions,
  Deployment: { ...podTemplate('spec.template'), 'spec.strategy': retainKeys, ...conditions },
  ReplicaSet: { ...podTemplate('spec.template'), ...conditions },
  ReplicationController: { ...podTemplate('spec.template'), ...conditions },
  DaemonSet: { ...podTemplate('spec.template'), ...conditions },
  StatefulSet: { ...podTemplate('spec.template'), ...conditions },
  Job: { ...podTemplate('spec.template'), ...conditions },
  CronJob: under('spec.jobTemplate', { ...under('metadata', objectMeta), ...podTemplate('spec.template') }),
};

const tables = new Map<string, ReadonlyMap<string, FieldPatchStrategy>>(
  Object.entries(byKind).map(([kind, table]) => [kind, new Map(Object.entries({ ...under('metadata', objectMeta), ...table }))]),
);
const unknownKindTable: ReadonlyMap<string, FieldPatchStrategy> = new Map(Object.entries(under('metadata', objectMeta)));

/** The strategy table for `kind`; an unknown kind gets only the metadata fields, all else JSON-merge-like. */
export function patchStrategiesFor(kind: string): ReadonlyMap<string, FieldPatchStrategy> {
  return tables.get(kind) ?? unknownKindTable;
}

/** Kinds with their own table, for tests and for the apiserver to tell CRDs apart. */
export function kindsWithPatchStrategies(): string[] {
  return [...tables.keys()];
}
