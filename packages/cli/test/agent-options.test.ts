// `raftplane agent`'s flags: defaults, every flag given, each bad flag refused with its own error
// naming it, and --help listing every flag with its default.

import { describe, expect, test } from 'vitest';
import { agentUsage, parseAgentArgs } from '../src/agent-options.js';
import { CliError, CliErrorCode } from '../src/errors.js';

const required = ['--name', 'node-1', '--address', '127.0.1.1', '--servers', 'http://127.0.0.1:6441'];

function refusal(argv: string[]): CliError {
  try {
    parseAgentArgs(argv);
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

describe('raftplane agent flags', () => {
  test("defaults: the process runtime, the kubelet's port and periods, a data dir named after the node", () => {
    const parsed = parseAgentArgs(required);
    expect(parsed).toEqual({
      help: false,
      options: {
        endpoints: ['http://127.0.0.1:6441'],
        token: undefined,
        tokenFile: undefined,
        logLevel: 'info',
        name: 'node-1',
        address: '127.0.1.1',
        runtime: 'process',
        dataDir: '.raftplane/agent-node-1',
        dockerSocket: '/var/run/docker.sock',
        podNetwork: 'host',
        podCidr: undefined,
        port: 10250,
        cpu: undefined,
        memory: undefined,
        maxPods: 110,
        labels: {},
        taints: [],
        heartbeatMs: 10_000,
        statusReportMs: 60_000,
        resyncMs: 10_000,
        restartBackoffMs: 10_000,
        restartBackoffMaxMs: 300_000,
      },
    });
  });

  test('every flag given', () => {
    const parsed = parseAgentArgs([
      ...required,
      ...['--token-file', '/t', '--runtime', 'docker', '--data-dir', '/var/lib/a', '--docker-socket', '/run/d.sock', '--pod-network', 'bridge', '--pod-cidr', '127.1.9.0/24', '--port', '0'],
      ...['--cpu', '3500m', '--memory', '8Gi', '--max-pods', '20', '--node-labels', 'node-role.kubernetes.io/worker=,zone=a', '--register-with-taints', 'dedicated=gpu:NoSchedule,maint:NoExecute'],
      ...['--heartbeat', '1s', '--status-report', '30s', '--resync', '2s', '--restart-backoff', '500ms', '--restart-backoff-max', '2s', '--log-level', 'debug'],
    ]);
    expect(parsed).toMatchObject({
      options: {
        runtime: 'docker',
        dataDir: '/var/lib/a',
        dockerSocket: '/run/d.sock',
        podNetwork: 'bridge',
        podCidr: '127.1.9.0/24',
        port: 0,
        cpu: '3500m',
        memory: '8Gi',
        maxPods: 20,
        labels: { 'node-role.kubernetes.io/worker': '', zone: 'a' },
        taints: [
          { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
          { key: 'maint', effect: 'NoExecute' },
        ],
        heartbeatMs: 1_000,
        statusReportMs: 30_000,
        resyncMs: 2_000,
        restartBackoffMs: 500,
        restartBackoffMaxMs: 2_000,
        logLevel: 'debug',
      },
    });
  });

  test.each([
    [['--address', '127.0.1.1', '--servers', 'http://127.0.0.1:1'], CliErrorCode.MissingFlag, '--name is required'],
    [['--name', 'n', '--servers', 'http://127.0.0.1:1'], CliErrorCode.MissingFlag, '--address is required'],
    [['--name', 'n', '--address', '127.0.1.1'], CliErrorCode.MissingFlag, '--servers is required'],
    [[...required.slice(0, 1), 'Node_1', ...required.slice(2)], CliErrorCode.InvalidFlag, '--name "Node_1" is not a valid node name'],
    [['--name', 'n', '--address', '10.0.0.1', '--servers', 'http://127.0.0.1:1'], CliErrorCode.InvalidFlag, '--address 10.0.0.1 is outside 127.0.0.0/8'],
    [['--name', 'n', '--address', '127.0.1', '--servers', 'http://127.0.0.1:1'], CliErrorCode.InvalidFlag, '--address "127.0.1" is not an IPv4 address'],
    [[...required, '--runtime', 'containerd'], CliErrorCode.InvalidFlag, '--runtime "containerd" is not one of process, docker'],
    [[...required, '--pod-network', 'overlay'], CliErrorCode.InvalidFlag, '--pod-network "overlay" is not one of host, bridge'],
    [[...required, '--docker-socket', 'docker.sock'], CliErrorCode.InvalidFlag, '--docker-socket "docker.sock" must be an absolute path'],
    [[...required, '--port', '70000'], CliErrorCode.InvalidFlag, '--port "70000" must be an integer from 0 to 65535'],
    [[...required, '--max-pods', '0'], CliErrorCode.InvalidFlag, '--max-pods "0" must be an integer from 1 to 10000'],
    [[...required, '--cpu', 'four'], CliErrorCode.InvalidFlag, '--cpu "four" is not a quantity like 4 or 3500m'],
    [[...required, '--memory', '8GB'], CliErrorCode.InvalidFlag, '--memory "8GB" is not a quantity like 8Gi'],
    [[...required, '--node-labels', 'zone'], CliErrorCode.InvalidFlag, '--node-labels "zone" is not key=value'],
    [[...required, '--register-with-taints', 'dedicated=gpu:Sometimes'], CliErrorCode.InvalidFlag, '--register-with-taints "dedicated=gpu:Sometimes" is not key[=value]:Effect'],
    [[...required, '--heartbeat', '10'], CliErrorCode.InvalidFlag, '--heartbeat "10" is not a duration'],
    [[...required, '--restart-backoff', '10s', '--restart-backoff-max', '5s'], CliErrorCode.ConflictingFlags, '--restart-backoff-max 5s must not be shorter than --restart-backoff 10s'],
    [[...required, '--token', 'a', '--token-file', '/t'], CliErrorCode.ConflictingFlags, '--token and --token-file were both given'],
    [[...required, '--nodename', 'x'], CliErrorCode.UnknownFlag, 'unknown flag --nodename for raftplane agent'],
  ])('%j is refused: %s', (argv, code, message) => {
    const error = refusal(argv as string[]);
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
  });

  test('--help lists every flag with its default', () => {
    expect(parseAgentArgs(['--help'])).toEqual({ help: true });
    const usage = agentUsage();
    for (const flag of ['--name', '--address', '--servers', '--runtime', '--data-dir', '--docker-socket', '--pod-network', '--pod-cidr', '--port', '--cpu', '--memory', '--max-pods', '--node-labels', '--register-with-taints', '--heartbeat', '--status-report', '--resync', '--restart-backoff', '--restart-backoff-max', '--log-level']) {
      expect(usage).toMatch(new RegExp(`^  ${flag}\\b.*\\((default [^)]+|required)\\)$`, 'm'));
    }
  });
});
