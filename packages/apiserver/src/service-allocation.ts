// ClusterIPs and NodePorts for Services, claimed through the store (issue 8). Each address a
// Service holds has a claim key (`/registry/ranges/serviceips/<ip>`, `…/servicenodeports/<port>`)
// whose value names the owner; a write that takes an address puts its claim in the Service's own
// txn with a compare that the key does not exist, and a write that gives one up deletes it in the
// same txn. So two Services can never commit the same address, and an address is free again
// exactly when the Service that held it is gone: no separate bitmap to repair.

import {
  internalError,
  invalid,
  invalidError,
  type FieldCause,
  type KubeObject,
  type ResourceInfo,
  type Service,
  type ServiceSpec,
} from '@raftplane/api';
import type { Compare, RequestOp } from '@raftplane/kv';
import { rangeRequest, type ApiBackend } from './backend.js';
import { keyText, prefixEnd, textBytes } from './keys.js';
import { ipv4ToNumber, isUsableIP, numberToIpv4, type ServiceRanges } from './service-ranges.js';

export const serviceIPClaimPrefix = '/registry/ranges/serviceips/';
export const nodePortClaimPrefix = '/registry/ranges/servicenodeports/';

/** What a write of some kinds adds to its own txn; planned afresh on every attempt. */
export interface PlannedWrite {
  /** The object to store in place of the one given (allocated fields filled); null on a remove. */
  readonly object: KubeObject | null;
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
}

/** The store calls it before every create, update and remove; null: nothing to add. */
export interface WritePlanner {
  plan(info: ResourceInfo, prev: KubeObject | null, next: KubeObject | null): Promise<PlannedWrite | null>;
}

interface Held {
  readonly ips: ReadonlySet<string>;
  readonly ports: ReadonlySet<number>;
}

const serviceKind = { group: '', kind: 'Service' };

function needsClusterIP(spec: ServiceSpec | undefined): boolean {
  return spec !== undefined && spec.type !== 'ExternalName';
}

function needsNodePorts(spec: ServiceSpec | undefined): boolean {
  return spec?.type === 'NodePort' || spec?.type === 'LoadBalancer';
}

/** The addresses a stored Service holds claims on. */
function heldBy(svc: Service | null): Held {
  const spec = svc?.spec;
  const ips = new Set<string>();
  for (const ip of spec?.clusterIPs ?? (spec?.clusterIP ? [spec.clusterIP] : [])) if (ip !== 'None' && ip !== '') ips.add(ip);
  const ports = new Set<number>();
  for (const port of spec?.ports ?? []) if (port.nodePort) ports.add(port.nodePort);
  return { ips, ports };
}

/**
 * Kubernetes 1.20's patchAllocatedValues and dropTypeDependentFields for an update (a PUT from
 * `kubectl replace` or `apply` carries no clusterIP or nodePorts): values left out keep what the
 * Service holds, and a type change away from NodePort or to ExternalName drops the values that no
 * longer apply when the request left them as they were. Changes `next` in place.
 */
export function keepAllocatedValues(next: Service, prev: Service): void {
  const spec = next.spec;
  const old = prev.spec;
  if (spec === undefined || old === undefined) return;
  if (needsClusterIP(old) && needsClusterIP(spec)) {
    if (!spec.clusterIP && old.clusterIP) spec.clusterIP = old.clusterIP;
    if ((spec.clusterIPs ?? []).length === 0 && old.clusterIPs !== undefined) spec.clusterIPs = [...old.clusterIPs];
    if (spec.ipFamilies === undefined && old.ipFamilies !== undefined) spec.ipFamilies = [...old.ipFamilies];
    if (spec.ipFamilyPolicy === undefined && old.ipFamilyPolicy !== undefined) spec.ipFamilyPolicy = old.ipFamilyPolicy;
  } else if (needsClusterIP(old) && spec.clusterIP === old.clusterIP) {
    delete spec.clusterIP;
    delete spec.clusterIPs;
    delete spec.ipFamilies;
    delete spec.ipFamilyPolicy;
  }
  const oldByName = new Map((old.ports ?? []).map((p) => [p.name ?? '', p.nodePort ?? 0]));
  if (needsNodePorts(old) && needsNodePorts(spec)) {
    // A nodePort another port of the new spec names stays with that port.
    const named = new Set((spec.ports ?? []).map((p) => p.nodePort ?? 0));
    for (const port of spec.ports ?? []) {
      const kept = oldByName.get(port.name ?? '') ?? 0;
      if (!port.nodePort && kept !== 0 && !named.has(kept)) port.nodePort = kept;
    }
  } else if (needsNodePorts(old) && !needsNodePorts(spec)) {
    for (const port of spec.ports ?? []) if (port.nodePort && port.nodePort === oldByName.get(port.name ?? '')) delete port.nodePort;
  }
}

/** A claim's value: who holds the address (JSON, one fixed field order so releases can compare it). */
function ownerValue(svc: Service): Uint8Array {
  return textBytes(JSON.stringify({ namespace: svc.metadata.namespace ?? '', name: svc.metadata.name ?? '', uid: svc.metadata.uid ?? '' }));
}

function claimOps(key: Uint8Array, owner: Uint8Array): { compare: Compare; put: RequestOp } {
  return {
    compare: { result: 'EQUAL', target: 'CREATE', key, rangeEnd: new Uint8Array(0), operand: 0 },
    put: { put: { key, value: owner, lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false } },
  };
}

/** Deletes a claim only while `owner` holds it: a nested txn, so a claim someone else holds is left alone. */
function releaseOp(key: Uint8Array, owner: Uint8Array): RequestOp {
  return {
    txn: {
      compare: [{ result: 'EQUAL', target: 'VALUE', key, rangeEnd: new Uint8Array(0), operand: owner }],
      success: [{ deleteRange: { key, rangeEnd: new Uint8Array(0), prevKv: false } }],
      failure: [],
    },
  };
}

/** The claims under one prefix, read once per plan. */
class ClaimedSet {
  private names: Set<string> | null = null;

  constructor(
    private readonly backend: ApiBackend,
    private readonly prefix: string,
    /** Serializable (this master's copy) first; a linearizable read confirms a "taken" or "full" answer. */
    private readonly serializable: boolean,
  ) {}

  async load(): Promise<Set<string>> {
    if (this.names !== null) return this.names;
    const prefix = textBytes(this.prefix);
    const response = await this.backend.range(rangeRequest({ key: prefix, rangeEnd: prefixEnd(prefix), keysOnly: true, serializable: this.serializable }));
    this.names = new Set(response.kvs.map((kv) => keyText(kv.key).slice(this.prefix.length)));
    return this.names;
  }
}

/** Picks a free value in [0, count) starting at a random offset, or null when all are taken. */
function scanFree(count: number, random: () => number, isFree: (offset: number) => boolean): number | null {
  const start = Math.floor(random() * count);
  for (let i = 0; i < count; i++) {
    const offset = (start + i) % count;
    if (isFree(offset)) return offset;
  }
  return null;
}

/** One plan: the object with its addresses, the claims to take and those to give up. */
class ServicePlan {
  readonly causes: FieldCause[] = [];
  /** Why nothing could be chosen: a range is full. */
  full: string | null = null;
  /** The Service to store, its addresses filled; null on a remove. */
  object: Service | null = null;
  private readonly compare: Compare[] = [];
  private readonly success: RequestOp[] = [];
  private readonly ips: ClaimedSet;
  private readonly ports: ClaimedSet;

  constructor(
    backend: ApiBackend,
    private readonly ranges: ServiceRanges,
    private readonly random: () => number,
    private readonly owner: Uint8Array,
    confirmed: boolean,
  ) {
    this.ips = new ClaimedSet(backend, serviceIPClaimPrefix, !confirmed);
    this.ports = new ClaimedSet(backend, nodePortClaimPrefix, !confirmed);
  }

  result(): PlannedWrite {
    return { object: this.object, compare: this.compare, success: this.success };
  }

  private claim(key: string): void {
    const ops = claimOps(textBytes(key), this.owner);
    this.compare.push(ops.compare);
    this.success.push(ops.put);
  }

  release(held: Held, kept: Held): void {
    for (const ip of held.ips) if (!kept.ips.has(ip)) this.success.push(releaseOp(textBytes(serviceIPClaimPrefix + ip), this.owner));
    for (const port of held.ports) if (!kept.ports.has(port)) this.success.push(releaseOp(textBytes(nodePortClaimPrefix + port), this.owner));
  }

  /** spec.clusterIP: kept, checked and claimed when asked for, or chosen. */
  async clusterIP(spec: ServiceSpec, held: Held): Promise<void> {
    if (!needsClusterIP(spec)) return;
    // clusterIPs[0] is clusterIP (Kubernetes 1.20): a client may send either.
    const asked = spec.clusterIP || spec.clusterIPs?.[0] || '';
    if (asked === 'None') {
      Object.assign(spec, { clusterIPs: ['None'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
      return;
    }
    const ip = asked === '' ? await this.chooseIP() : await this.checkIP(asked, held);
    if (ip === null) return;
    Object.assign(spec, { clusterIP: ip, clusterIPs: [ip], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
  }

  private async checkIP(ip: string, held: Held): Promise<string | null> {
    if (held.ips.has(ip)) return ip;
    const range = this.ranges.clusterIP;
    const value = ipv4ToNumber(ip);
    if (value === null || !isUsableIP(range, value)) {
      this.causes.push(invalid('spec.clusterIPs', ip, `provided IP is not in the valid range. The range of valid IPs is ${range.cidr}`));
      return null;
    }
    if ((await this.ips.load()).has(ip)) {
      this.causes.push(invalid('spec.clusterIPs', ip, 'provided IP is already allocated'));
      return null;
    }
    this.claim(serviceIPClaimPrefix + ip);
    return ip;
  }

  private async chooseIP(): Promise<string | null> {
    const range = this.ranges.clusterIP;
    const taken = await this.ips.load();
    // Offsets from the second usable address: the first (…0.1) stays for a `kubernetes` Service,
    // which asks for it by name, as Kubernetes reserves it.
    const first = range.base + 2;
    const count = range.size - 3;
    const found = scanFree(count, this.random, (offset) => !taken.has(numberToIpv4(first + offset)));
    if (found === null) {
      this.full = `failed to allocate a serviceIP: range is full (${range.cidr}, ${count} addresses)`;
      return null;
    }
    const ip = numberToIpv4(first + found);
    taken.add(ip);
    this.claim(serviceIPClaimPrefix + ip);
    return ip;
  }

  /** spec.ports[].nodePort for NodePort and LoadBalancer Services. */
  async nodePorts(spec: ServiceSpec, held: Held): Promise<void> {
    if (!needsNodePorts(spec)) return;
    // Most updates keep every nodePort: no read of the claims for those.
    if ((spec.ports ?? []).every((p) => p.nodePort && held.ports.has(p.nodePort))) return;
    const range = this.ranges.nodePort;
    const taken = await this.ports.load();
    const claimed = new Set<number>();
    const ports = spec.ports ?? [];
    // The ports asked for first, so that a port chosen for another port of the same Service can
    // never be one this Service asks for further down its list.
    for (const [i, port] of ports.entries()) {
      const asked = port.nodePort ?? 0;
      // The same nodePort on two ports of one Service (TCP and UDP of one number) is one claim.
      if (asked === 0 || held.ports.has(asked) || claimed.has(asked)) continue;
      if (asked < range.min || asked > range.max) {
        this.causes.push(invalid(`spec.ports[${i}].nodePort`, asked, `provided port is not in the valid range. The range of valid ports is ${range.min}-${range.max}`));
        continue;
      }
      if (taken.has(String(asked))) {
        this.causes.push(invalid(`spec.ports[${i}].nodePort`, asked, 'provided port is already allocated'));
        continue;
      }
      taken.add(String(asked));
      claimed.add(asked);
      this.claim(nodePortClaimPrefix + asked);
    }
    for (const port of ports) {
      if (port.nodePort) continue;
      const chosen = this.choosePort(taken);
      if (chosen === null) return;
      taken.add(String(chosen));
      claimed.add(chosen);
      port.nodePort = chosen;
      this.claim(nodePortClaimPrefix + chosen);
    }
  }

  private choosePort(taken: ReadonlySet<string>): number | null {
    const range = this.ranges.nodePort;
    const count = range.max - range.min + 1;
    const found = scanFree(count, this.random, (offset) => !taken.has(String(range.min + offset)));
    if (found === null) this.full = `failed to allocate a nodePort: range is full (${range.min}-${range.max})`;
    return found === null ? null : range.min + found;
  }
}

export class ServiceAllocator implements WritePlanner {
  constructor(
    private readonly backend: ApiBackend,
    private readonly ranges: ServiceRanges,
    /** The apiserver's injected randomness (MetadataEnv.random). */
    private readonly random: () => number,
  ) {}

  async plan(info: ResourceInfo, prev: KubeObject | null, next: KubeObject | null): Promise<PlannedWrite | null> {
    if (info.kind !== 'Service' || info.group !== '') return null;
    const first = await this.planOnce(prev as Service | null, next as Service | null, false);
    // "Taken" or "full" from this master's copy may be stale: confirm against the newest state.
    const planned = first.causes.length > 0 || first.full !== null ? await this.planOnce(prev as Service | null, next as Service | null, true) : first;
    const name = (next ?? prev)?.metadata.name ?? '';
    if (planned.causes.length > 0) throw invalidError(serviceKind, name, planned.causes);
    if (planned.full !== null) throw internalError(planned.full);
    return planned.result();
  }

  private async planOnce(prev: Service | null, next: Service | null, confirmed: boolean): Promise<ServicePlan> {
    const owner = ownerValue((next ?? prev) as Service);
    const plan = new ServicePlan(this.backend, this.ranges, this.random, owner, confirmed);
    const held = heldBy(prev);
    if (next === null) {
      plan.release(held, heldBy(null));
      return plan;
    }
    const object = structuredClone(next);
    const spec = (object.spec ??= {});
    await plan.clusterIP(spec, held);
    await plan.nodePorts(spec, held);
    plan.release(held, heldBy(object));
    plan.object = object;
    return plan;
  }
}
