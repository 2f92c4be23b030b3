// A tool built for etcd's v3 JSON gateway (etcd-gateway-client.mjs beside this file, written only
// from etcd's documented shapes) runs unchanged against a three-master raftplane cluster (issue 4,
// "Must show"); the same tool against a real three-member etcd proves that the tool itself is right.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { etcdBinary, tempEtcd } from './temp-etcd.js';

const TOOL = fileURLToPath(new URL('./etcd-gateway-client.mjs', import.meta.url));
const TOOL_TIMEOUT_MS = 90_000;

/** Runs the tool as a child process; answers its exit code and everything it printed. */
function runTool(endpoints: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TOOL, '--timeout-ms', '10000', ...endpoints], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), TOOL_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The checks that failed, for the assertion message (the whole output goes to the log). */
function failures(output: string): string {
  const lines = output.split('\n');
  const failed = lines.flatMap((line, i) => (line.startsWith('FAIL') ? [line, ...lines.slice(i + 1, i + 4).filter((l) => l.startsWith('       '))] : []));
  return failed.length > 0 ? failed.join('\n') : output.slice(-2_000);
}

// In CI (.ci/run sets RAFTPLANE_REQUIRE_ETCD=1) etcd is installed, and its absence is a failure.
const etcdMissing = etcdBinary() === null && process.env['RAFTPLANE_REQUIRE_ETCD'] !== '1';

describe("a client written for etcd's v3 JSON gateway", () => {
  test('passes every check, unchanged, against the masters of a three-master raftplane cluster', async () => {
    // Loaded here, not at the top: the etcd test below must run even when raftplane's packages do not load.
    const { tempCluster } = await import('../../scripts/lib/temp-cluster.js');
    const { awaitLeader } = await import('../support/cluster-checks.js');
    const cluster = await tempCluster({ masters: 3 });
    try {
      await cluster.startAll();
      await awaitLeader(cluster.control);
      const endpoints = cluster.control.config.masters.map((m) => `http://${m.api.host}:${m.api.port}`);
      const { code, output } = await runTool(endpoints);
      console.log(output);
      expect(code, `etcd-gateway-client.mjs against raftplane:\n${failures(output)}`).toBe(0);
    } finally {
      await cluster.cleanup();
    }
  });

  test.skipIf(etcdMissing)('passes every check against a real three-member etcd (the tool is right)', async () => {
    const etcd = await tempEtcd({ members: 3 });
    try {
      const { code, output } = await runTool(etcd.endpoints);
      console.log(output);
      expect(code, `etcd-gateway-client.mjs against etcd:\n${failures(output)}`).toBe(0);
    } finally {
      await etcd.stop();
    }
  });
});
