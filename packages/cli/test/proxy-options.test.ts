// `raftplane proxy`'s flags: defaults, each bad flag refused with its own error naming it, and
// --help listing every flag with its default.

import { describe, expect, test } from 'vitest';
import { CliError, CliErrorCode, defaultNodePortAddresses, parseProxyArgs, proxyUsage } from '../src/index.js';

function refusal(argv: string[]): CliError {
  try {
    parseProxyArgs(argv);
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

describe('raftplane proxy flags', () => {
  test('defaults: NodePorts on 127.0.0.1, log level info', () => {
    expect(parseProxyArgs(['--servers', 'http://127.0.0.1:6441/'])).toEqual({
      help: false,
      options: { endpoints: ['http://127.0.0.1:6441'], token: undefined, tokenFile: undefined, nodePortAddresses: [...defaultNodePortAddresses], logLevel: 'info' },
    });
  });

  test('every flag given', () => {
    const parsed = parseProxyArgs(['--servers', 'http://127.0.0.1:1,https://127.0.0.1:2', '--token-file', '/t', '--node-port-addresses', '127.0.0.1,127.0.1.1,127.0.1.1', '--log-level', 'debug']);
    expect(parsed).toMatchObject({ options: { endpoints: ['http://127.0.0.1:1', 'https://127.0.0.1:2'], tokenFile: '/t', nodePortAddresses: ['127.0.0.1', '127.0.1.1'], logLevel: 'debug' } });
  });

  test.each([
    [[], CliErrorCode.MissingFlag, '--servers'],
    [['--servers', 'ftp://x'], CliErrorCode.InvalidFlag, '--servers'],
    [['--servers', 'http://127.0.0.1:1', '--node-port-addresses', '10.0.0.1'], CliErrorCode.InvalidFlag, '--node-port-addresses'],
    [['--servers', 'http://127.0.0.1:1', '--node-port-addresses', '127.0.0.300'], CliErrorCode.InvalidFlag, '--node-port-addresses'],
    [['--servers', 'http://127.0.0.1:1', '--token', 'a', '--token-file', 'b'], CliErrorCode.ConflictingFlags, '--token'],
    [['--servers', 'http://127.0.0.1:1', '--log-level', 'loud'], CliErrorCode.InvalidFlag, '--log-level'],
    [['--servers', 'http://127.0.0.1:1', '--leader-elect'], CliErrorCode.UnknownFlag, '--leader-elect'],
  ])('refuses %j with %s naming %s', (argv, code, flag) => {
    const error = refusal(argv);
    expect(error.code).toBe(code);
    expect(error.flag).toBe(flag);
  });

  test('--help lists every flag with its default', () => {
    expect(parseProxyArgs(['--help'])).toEqual({ help: true });
    const usage = proxyUsage();
    for (const flag of ['--servers', '--token', '--token-file', '--node-port-addresses', '--log-level', '--help']) expect(usage).toContain(flag);
    expect(usage).toContain('(default 127.0.0.1)');
  });
});
