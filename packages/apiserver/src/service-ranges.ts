// The ranges Services draw their addresses from: the ClusterIP CIDR (IPv4, inside 127.0.0.0/8, since
// the service proxy listens on ClusterIPs as local addresses and Linux answers all of 127/8 on
// loopback) and the NodePort range. Pure parsing; errors are plain messages the config names a field in.

export interface ServiceIPRange {
  /** The CIDR as Kubernetes prints it in "The range of valid IPs is …". */
  readonly cidr: string;
  /** The network address as an unsigned 32-bit number. */
  readonly base: number;
  /** Addresses in the CIDR, network and broadcast included: 2^(32 - prefix). */
  readonly size: number;
}

export interface NodePortRange {
  readonly min: number;
  readonly max: number;
}

export interface ServiceRanges {
  readonly clusterIP: ServiceIPRange;
  readonly nodePort: NodePortRange;
}

export const serviceRangeDefaults = { serviceClusterIPRange: '127.100.0.0/16', serviceNodePortRange: '30000-32767' } as const;

/** A /30 leaves two usable addresses; a /8 is the whole of loopback. */
const prefixMin = 8;
const prefixMax = 30;
const loopback = { base: 127 << 24 >>> 0, size: 2 ** 24 };

/** "127.100.0.5" → its number; null unless four decimal octets without leading zeros. */
export function ipv4ToNumber(text: string): number | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (match === null) return null;
  let value = 0;
  for (const octet of match.slice(1)) {
    if (Number(octet) > 255 || (octet.length > 1 && octet.startsWith('0'))) return null;
    value = value * 256 + Number(octet);
  }
  return value;
}

export function numberToIpv4(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** 32) throw new RangeError(`numberToIpv4: ${value} is not an IPv4 address`);
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** Whether `ip` (a number) may be handed out: inside the CIDR, neither its network nor its broadcast address. */
export function isUsableIP(range: ServiceIPRange, ip: number): boolean {
  return ip > range.base && ip < range.base + range.size - 1;
}

/** "127.100.0.0/16" → the range; throws RangeError saying what is wrong. */
export function parseServiceIPRange(text: string): ServiceIPRange {
  const [address, bits, ...rest] = text.split('/');
  const base = ipv4ToNumber(address ?? '');
  if (base === null || bits === undefined || rest.length > 0 || !/^\d{1,2}$/.test(bits)) {
    throw new RangeError(`must be an IPv4 CIDR such as ${serviceRangeDefaults.serviceClusterIPRange}, got ${JSON.stringify(text)} (IPv6 service ranges are not supported)`);
  }
  const prefix = Number(bits);
  if (prefix < prefixMin || prefix > prefixMax) throw new RangeError(`must have a prefix length in [${prefixMin}, ${prefixMax}], got ${JSON.stringify(text)}`);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) {
    const network = numberToIpv4(base - (base % size));
    throw new RangeError(`must name its network address, got ${JSON.stringify(text)} (did you mean ${network}/${prefix}?)`);
  }
  if (base < loopback.base || base + size > loopback.base + loopback.size) {
    throw new RangeError(`must lie inside 127.0.0.0/8 (the service proxy listens on ClusterIPs as loopback addresses), got ${JSON.stringify(text)}`);
  }
  return { cidr: `${numberToIpv4(base)}/${prefix}`, base, size };
}

/** "30000-32767" → the range; throws RangeError saying what is wrong. */
export function parseNodePortRange(text: string): NodePortRange {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(text);
  const min = Number(match?.[1]);
  const max = Number(match?.[2]);
  if (match === null || min < 1 || max > 65_535 || min > max) {
    throw new RangeError(`must be "min-max" with 1 <= min <= max <= 65535, such as ${serviceRangeDefaults.serviceNodePortRange}, got ${JSON.stringify(text)}`);
  }
  return { min, max };
}

export function parseServiceRanges(clusterIPRange: string, nodePortRange: string): ServiceRanges {
  return { clusterIP: parseServiceIPRange(clusterIPRange), nodePort: parseNodePortRange(nodePortRange) };
}
