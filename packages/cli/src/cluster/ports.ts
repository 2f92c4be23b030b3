// Whether a loopback address and port is free, and if not, which process holds it: a cluster that
// cannot start because another one runs should say so and name it, not fail in a master's log.

import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';

/** Tries to listen on host:port; true when that worked (the listener is closed at once). */
export async function portFree(host: string, port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** /proc/net/tcp writes an IPv4 address as 8 hex digits in host (little-endian) order. */
function procAddress(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
}

export interface PortHolder {
  readonly pid: number;
  readonly command: string;
  readonly cwd: string;
}

/**
 * The process listening on host:port, found through /proc (the socket's inode among its open
 * files), or null when it cannot be told (not Linux, or another user's process).
 */
export async function portHolder(host: string, port: number): Promise<PortHolder | null> {
  let inode: string | undefined;
  try {
    for (const line of (await readFile('/proc/net/tcp', 'utf8')).split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [addressHex, portHex] = (fields[1] ?? '').split(':');
      if (fields[3] !== '0A' || portHex === undefined || Number.parseInt(portHex, 16) !== port) continue;
      const address = procAddress(addressHex ?? '');
      if (address === host || address === '0.0.0.0') inode = fields[9];
    }
    if (inode === undefined) return null;
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const fds = await readdir(`/proc/${entry}/fd`).catch(() => [] as string[]);
      for (const fd of fds) {
        if ((await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '')) !== `socket:[${inode}]`) continue;
        const command = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ').trim();
        const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '?');
        return { pid: Number(entry), command, cwd };
      }
    }
  } catch {
    // No /proc: the caller reports the port without its holder.
  }
  return null;
}

export interface BusyPort {
  readonly host: string;
  readonly port: number;
  readonly what: string;
}

/**
 * The ports grouped by the process holding them, one line each: "127.0.0.1:6441 (master 1's API),
 * 127.0.0.1:7441 (master 1's peer port): pid 12, node …/main.js --config … --id 1, in /tmp/x".
 */
export async function describeBusyPorts(busy: readonly BusyPort[]): Promise<string[]> {
  const groups = new Map<string, string[]>();
  for (const b of busy) {
    const holder = await portHolder(b.host, b.port);
    const by = holder === null ? 'another process' : `pid ${holder.pid}, ${holder.command.slice(0, 120)}, in ${holder.cwd}`;
    groups.set(by, [...(groups.get(by) ?? []), `${b.host}:${b.port} (${b.what})`]);
  }
  return [...groups].map(([by, ports]) => `${ports.join(', ')}: in use by ${by}`);
}

/** "127.0.0.1:6441 (master 1's API) is in use by pid 12 (node … --id 1, in /tmp/x)". */
export async function describeBusyPort(host: string, port: number, what: string): Promise<string> {
  const [line] = await describeBusyPorts([{ host, port, what }]);
  return line ?? `${host}:${port} (${what}) is in use`;
}
