// Each pod's own loopback address, from the node's pod range (DESIGN.md, "Running on one
// machine"): containers bind to $POD_IP, so two pods can both serve :8080. Allocations are kept in
// a file under the agent's data dir and written before a container is started with the address,
// so an agent that restarts gives a running pod the address its containers already use.

import { readFile, rename, writeFile } from 'node:fs/promises';
import { AgentError, AgentErrorCode, invalidOption } from './errors.js';

/** `a.b.c.d/n` as the first and last address (32-bit numbers) it holds. */
export interface Ipv4Range {
  readonly first: number;
  readonly last: number;
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** Parses a pod range; it must lie inside 127.0.0.0/8, since everything stays on loopback. */
export function parsePodCidr(option: string, cidr: string): Ipv4Range {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  const base = match === null ? undefined : parseIpv4(match[1] ?? '');
  const bits = match === null ? NaN : Number(match[2]);
  if (base === undefined || !(bits >= 8 && bits <= 30)) throw invalidOption(option, `${JSON.stringify(cidr)} is not an IPv4 CIDR like 127.1.1.0/24 (prefix 8 to 30)`);
  const size = 2 ** (32 - bits);
  const first = base - (base % size);
  if (first >>> 24 !== 127) throw invalidOption(option, `${cidr} is outside 127.0.0.0/8: pod addresses must be loopback addresses`);
  // The network and broadcast addresses are not given to pods.
  return { first: first + 1, last: first + size - 2 };
}

/** The default pod range of a node whose address is 127.0.1.N: 127.1.N.0/24. */
export function defaultPodCidr(nodeAddress: string): string {
  const value = parseIpv4(nodeAddress);
  const n = value === undefined ? 1 : value & 255;
  return `127.1.${n}.0/24`;
}

export class PodAddressPool {
  private readonly byPod = new Map<string, string>();
  private readonly used = new Set<number>();
  private next: number;

  private constructor(
    private readonly range: Ipv4Range,
    private readonly file: string,
  ) {
    this.next = range.first;
  }

  /** The pool with the allocations saved in `file` (none when it does not exist yet). */
  static async open(range: Ipv4Range, file: string): Promise<PodAddressPool> {
    const pool = new PodAddressPool(range, file);
    let saved: Record<string, string> = {};
    try {
      saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new AgentError(AgentErrorCode.InvalidOption, `the pod address file ${file} cannot be read`, { cause: error });
    }
    for (const [uid, ip] of Object.entries(saved)) {
      const value = parseIpv4(ip);
      if (value !== undefined && value >= range.first && value <= range.last) pool.take(uid, ip, value);
    }
    return pool;
  }

  private take(uid: string, ip: string, value: number): void {
    this.byPod.set(uid, ip);
    this.used.add(value);
  }

  get(uid: string): string | undefined {
    return this.byPod.get(uid);
  }

  /** The pod's address, allocating (and saving) one when it has none. */
  async allocate(uid: string, context: string): Promise<string> {
    const existing = this.byPod.get(uid);
    if (existing !== undefined) return existing;
    const size = this.range.last - this.range.first + 1;
    for (let i = 0; i < size; i++) {
      const value = this.range.first + ((this.next - this.range.first + i) % size);
      if (this.used.has(value)) continue;
      this.next = value + 1 > this.range.last ? this.range.first : value + 1;
      const ip = formatIpv4(value);
      this.take(uid, ip, value);
      await this.save();
      return ip;
    }
    throw new AgentError(AgentErrorCode.PodAddressesExhausted, `no free address left in the pod range ${formatIpv4(this.range.first - 1)}-${formatIpv4(this.range.last + 1)} for ${context} (${this.byPod.size} in use)`);
  }

  async release(uid: string): Promise<void> {
    const ip = this.byPod.get(uid);
    if (ip === undefined) return;
    this.byPod.delete(uid);
    this.used.delete(parseIpv4(ip) ?? -1);
    await this.save();
  }

  /** Pods holding an address, for the agent to release the ones it no longer knows. */
  pods(): string[] {
    return [...this.byPod.keys()];
  }

  private saving: Promise<void> = Promise.resolve();

  /** Writes are queued so two saves never interleave; each writes the newest table. */
  private save(): Promise<void> {
    this.saving = this.saving.then(async () => {
      const temporary = `${this.file}.tmp`;
      await writeFile(temporary, JSON.stringify(Object.fromEntries(this.byPod)));
      await rename(temporary, this.file);
    });
    return this.saving;
  }
}
