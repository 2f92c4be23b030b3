// The flags of `raftplane proxy`, parsed and validated whole before anything starts (house rule 9),
// with --help generated from the same table. Shares the standalone components' helpers
// (component-options.ts) for --servers, parse errors and the help layout.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { flagLines, logLevels, parseArgsError, parseConnectionFlags, type FlagSpec, type LogLevel } from './component-options.js';
import { invalidFlag } from './errors.js';

/**
 * Where NodePorts are served unless told: 127.0.0.1. A local cluster's node agents each have an
 * address of their own (127.0.1.N); list those to serve `node address:nodePort` for each.
 */
export const defaultNodePortAddresses: readonly string[] = ['127.0.0.1'];

export interface ProxyOptions {
  /** Normalised origins, `http://127.0.0.1:6441`. */
  readonly endpoints: readonly string[];
  readonly token: string | undefined;
  /** Read when the proxy starts (parsing does no I/O). */
  readonly tokenFile: string | undefined;
  readonly nodePortAddresses: readonly string[];
  readonly logLevel: LogLevel;
}

export type ParsedProxyArgs = { readonly help: true } | { readonly help: false; readonly options: ProxyOptions };

const proxyFlags: readonly FlagSpec[] = [
  { name: 'servers', type: 'string', value: '<url,...>', fallback: '(required)', text: "the masters' API addresses, comma-separated: http://127.0.0.1:6441 or https://..." },
  { name: 'token', type: 'string', value: '<token>', fallback: 'none', text: 'bearer token for the API (use --token-file to keep it out of ps)' },
  { name: 'token-file', type: 'string', value: '<path>', fallback: 'none', text: 'file holding the bearer token (surrounding whitespace ignored)' },
  {
    name: 'node-port-addresses',
    type: 'string',
    value: '<ip,...>',
    fallback: defaultNodePortAddresses.join(','),
    text: "this machine's node addresses, where NodePort Services listen (inside 127.0.0.0/8; add each local node agent's 127.0.1.N)",
  },
  { name: 'log-level', type: 'string', value: '<level>', fallback: 'info', text: logLevels.join(' | ') },
  { name: 'help', type: 'boolean', fallback: 'false', text: 'print this help and exit' },
];

export function proxyUsage(): string {
  return [
    'usage: raftplane proxy --servers <url,...> [flags]',
    '',
    "The service proxy, one per machine: listens on every Service's ClusterIP:port, and for NodePort",
    'Services on every node address at the nodePort, and forwards each TCP connection to a ready',
    'endpoint (round robin; sessionAffinity ClientIP keeps a client on its endpoint). SIGTERM or',
    'SIGINT closes every listener and connection and exits 0.',
    '',
    'flags:',
    ...flagLines(proxyFlags),
  ].join('\n');
}

/** "127.0.0.1,127.0.1.1" → the addresses, each an IPv4 address on loopback, without repeats. */
function parseNodePortAddresses(text: string | undefined): string[] {
  if (text === undefined) return [...defaultNodePortAddresses];
  const parts = text.split(',').map((p) => p.trim());
  for (const part of parts) {
    const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(part)?.slice(1).map(Number);
    if (octets === undefined || octets.some((o) => o > 255)) throw invalidFlag('node-port-addresses', `${JSON.stringify(part)} is not an IPv4 address`);
    // DESIGN "Running on one machine": nothing listens for or sends traffic outside loopback.
    if (octets[0] !== 127) throw invalidFlag('node-port-addresses', `${part} is outside 127.0.0.0/8: raftplane keeps every service on loopback`);
  }
  return [...new Set(parts)];
}

/** Parses `raftplane proxy`'s argv (everything after `proxy`). Throws a CliError. */
export function parseProxyArgs(argv: readonly string[]): ParsedProxyArgs {
  const options = Object.fromEntries(proxyFlags.map((s) => [s.name, { type: s.type }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: options as ParseArgsConfig['options'], strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw parseArgsError(error, 'proxy');
  }
  if (values.help === true) return { help: true };
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const { endpoints, token, tokenFile, logLevel } = parseConnectionFlags(str);
  return { help: false, options: { endpoints, token, tokenFile, nodePortAddresses: parseNodePortAddresses(str('node-port-addresses')), logLevel } };
}
