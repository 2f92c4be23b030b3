// The flags of `raftplane scheduler` and `raftplane controller-manager`: defaults, every flag
// parsed, and a one-line error naming the flag for each kind of bad input (asserted on its code).

import { describe, expect, test } from 'vitest';
import { CliError, CliErrorCode, componentUsage, parseComponentArgs, type ComponentKind } from '../src/index.js';

const defaults = { identity: () => 'host_abc123' };

function parse(kind: ComponentKind, ...argv: string[]) {
  const parsed = parseComponentArgs(kind, argv, defaults);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.options;
}

function failure(kind: ComponentKind, ...argv: string[]): CliError {
  try {
    parseComponentArgs(kind, argv, defaults);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).not.toContain('\n');
    return error as CliError;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('component flags', () => {
  test("defaults are client-go's, the Lease named after the component", () => {
    expect(parse('scheduler', '--servers', 'http://127.0.0.1:6441')).toEqual({
      kind: 'scheduler',
      endpoints: ['http://127.0.0.1:6441'],
      token: undefined,
      tokenFile: undefined,
      leaderElect: true,
      leaseNamespace: 'kube-system',
      leaseName: 'kube-scheduler',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      identity: 'host_abc123',
      logLevel: 'info',
      percentageOfNodesToScore: 0,
    });
    expect(parse('controller-manager', '--servers', 'http://a:1').leaseName).toBe('kube-controller-manager');
  });

  test('every flag is read', () => {
    const options = parse(
      'controller-manager',
      '--servers=https://10.0.0.1:6441/, http://10.0.0.2:6441',
      '--token-file', '/etc/token',
      '--leader-elect=false',
      '--lease-namespace', 'ops',
      '--lease-name', 'cm.example',
      '--lease-duration', '1m30s',
      '--renew-deadline', '1500ms',
      '--retry-period', '0.5s',
      '--identity', 'replica-1',
      '--log-level', 'debug',
    );
    expect(options).toMatchObject({
      endpoints: ['https://10.0.0.1:6441', 'http://10.0.0.2:6441'],
      tokenFile: '/etc/token',
      leaderElect: false,
      leaseNamespace: 'ops',
      leaseName: 'cm.example',
      leaseDurationMs: 90_000,
      renewDeadlineMs: 1_500,
      retryPeriodMs: 500,
      identity: 'replica-1',
      logLevel: 'debug',
    });
    expect(parse('scheduler', '--servers', 'http://a:1', '--leader-elect').leaderElect).toBe(true);
    expect(parse('scheduler', '--servers', 'http://a:1', '--token', 'abc').token).toBe('abc');
    expect(parse('scheduler', '--servers', 'http://a:1', '--percentage-of-nodes-to-score', '100').percentageOfNodesToScore).toBe(100);
    expect(parse('scheduler', '--servers', 'http://a:1', '--percentage-of-nodes-to-score=0').percentageOfNodesToScore).toBe(0);
  });

  test('--percentage-of-nodes-to-score is the scheduler\'s alone, a whole number from 0 to 100', () => {
    expect(componentUsage('scheduler')).toMatch(/^ {2}--percentage-of-nodes-to-score <0-100>\s.*\(default 0\)$/m);
    expect(componentUsage('controller-manager')).not.toContain('percentage-of-nodes-to-score');
    for (const bad of ['101', '1.5', 'half', '']) {
      const error = failure('scheduler', '--servers', 'http://a:1', '--percentage-of-nodes-to-score', bad);
      expect(error.code).toBe(CliErrorCode.InvalidFlag);
      expect(error.flag).toBe('--percentage-of-nodes-to-score');
      expect(error.message).toContain('0 (adaptive) to 100');
    }
    expect(failure('scheduler', '--servers', 'http://a:1', '--percentage-of-nodes-to-score=-1').message).toContain('0 (adaptive) to 100');
    // A value that looks like a flag: one line that says how to pass it.
    expect(failure('scheduler', '--servers', 'http://a:1', '--percentage-of-nodes-to-score', '-1').message).toBe('--percentage-of-nodes-to-score needs a value (one that starts with a dash is written --percentage-of-nodes-to-score=<value>)');
    expect(failure('controller-manager', '--servers', 'http://a:1', '--percentage-of-nodes-to-score', '50').code).toBe(CliErrorCode.UnknownFlag);
  });

  test('--help lists every flag with its default', () => {
    expect(parseComponentArgs('scheduler', ['--help'], defaults)).toEqual({ help: true });
    const usage = componentUsage('controller-manager');
    for (const flag of ['servers', 'token', 'token-file', 'leader-elect', 'lease-namespace', 'lease-name', 'lease-duration', 'renew-deadline', 'retry-period', 'identity', 'log-level', 'help']) {
      expect(usage).toMatch(new RegExp(`^  --${flag}\\b.*\\((default .+|required)\\)$`, 'm'));
    }
    expect(usage).toContain('(default kube-controller-manager)');
    expect(usage).toContain('(default 15s)');
  });

  test.each([
    [['--lease-duration', '5s'], CliErrorCode.MissingFlag, '--servers'],
    [['--servers'], CliErrorCode.InvalidFlag, '--servers'],
    [['--servers', ''], CliErrorCode.InvalidFlag, '--servers'],
    [['--servers', 'http://a:1,,http://b:1'], CliErrorCode.InvalidFlag, '--servers'],
    [['--servers', 'ftp://a:1'], CliErrorCode.InvalidFlag, '--servers'],
    [['--servers', 'http://a:1/api'], CliErrorCode.InvalidFlag, '--servers'],
    [['--servers', 'not a url'], CliErrorCode.InvalidFlag, '--servers'],
    [['--servers', 'http://a:1', '--bogus'], CliErrorCode.UnknownFlag, '--bogus'],
    [['--servers', 'http://a:1', 'stray'], CliErrorCode.UnknownFlag, undefined],
    [['--servers', 'http://a:1', '--token', 'a', '--token-file', 'f'], CliErrorCode.ConflictingFlags, '--token'],
    [['--servers', 'http://a:1', '--token', 'a b'], CliErrorCode.InvalidFlag, '--token'],
    [['--servers', 'http://a:1', '--leader-elect=yes'], CliErrorCode.InvalidFlag, '--leader-elect'],
    [['--servers', 'http://a:1', '--lease-duration', '15'], CliErrorCode.InvalidFlag, '--lease-duration'],
    [['--servers', 'http://a:1', '--retry-period', '0s'], CliErrorCode.InvalidFlag, '--retry-period'],
    [['--servers', 'http://a:1', '--renew-deadline', 'soon'], CliErrorCode.InvalidFlag, '--renew-deadline'],
    [['--servers', 'http://a:1', '--lease-duration', '10s'], CliErrorCode.ConflictingFlags, '--lease-duration'],
    [['--servers', 'http://a:1', '--renew-deadline', '2s', '--retry-period', '2s'], CliErrorCode.ConflictingFlags, '--renew-deadline'],
    [['--servers', 'http://a:1', '--lease-name', 'Not_Valid'], CliErrorCode.InvalidFlag, '--lease-name'],
    [['--servers', 'http://a:1', '--lease-namespace', 'a.b'], CliErrorCode.InvalidFlag, '--lease-namespace'],
    [['--servers', 'http://a:1', '--identity', ''], CliErrorCode.InvalidFlag, '--identity'],
    [['--servers', 'http://a:1', '--log-level', 'loud'], CliErrorCode.InvalidFlag, '--log-level'],
    [['--help=yes'], CliErrorCode.InvalidFlag, '--help'],
  ] as const)('%j is refused: %s', (argv, code, flag) => {
    const error = failure('scheduler', ...argv);
    expect(error.code).toBe(code);
    expect(error.flag).toBe(flag);
    if (flag !== undefined) expect(error.message).toContain(flag);
  });
});
