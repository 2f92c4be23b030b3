// Runs a command in a running container (exec probes): create the exec, start it attached and read
// its multiplexed output to the end, then ask its exit code. The engine cannot kill an exec'd
// process, so a timeout only stops waiting (as the kubelet's docker exec probes did).

import type { Clock } from '@raftplane/client';
import { sleep } from '@raftplane/client';
import { AgentError, AgentErrorCode } from '../errors.js';
import { DockerFrameDecoder } from './docker-frames.js';
import { engineMessage, type DockerHttp } from './docker-http.js';
import type { ExecResult } from './runtime.js';

export interface ExecLimits {
  readonly callTimeoutMs: number;
  /** Output kept: the first bytes, as Kubernetes keeps the first 10 KiB of a probe's output. */
  readonly outputBytesMax: number;
  readonly frameBytesMax: number;
  /** Between two asks for the exit code, once the output has ended but the engine still says Running. */
  readonly exitPollMs: number;
}

const TIMEOUT: ExecResult = Object.freeze({ exitCode: -1, output: 'timeout' });

export async function execInContainer(http: DockerHttp, clock: Clock, id: string, command: readonly string[], timeoutMs: number, limits: ExecLimits): Promise<ExecResult> {
  // A timer, not AbortSignal.timeout: the latter can be lost after a GC on Node 20 (see LeaseLeadership).
  const deadline = new AbortController();
  const timer = clock.setTimer(() => deadline.abort(new Error(`exec timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    const execId = await createExec(http, id, command, limits.callTimeoutMs);
    const output = await readOutput(http, id, execId, timeoutMs, limits, deadline.signal);
    const exitCode = await exitCodeOf(http, clock, execId, limits, deadline.signal);
    return { exitCode, output };
  } catch (error) {
    if (deadline.signal.aborted) return TIMEOUT;
    throw error;
  } finally {
    timer.cancel();
  }
}

async function createExec(http: DockerHttp, id: string, command: readonly string[], timeoutMs: number): Promise<string> {
  const answer = await http.call('POST', `/containers/${encodeURIComponent(id)}/exec`, {
    json: { AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, Cmd: [...command] },
    timeoutMs,
  });
  // 404: no such container; 409: it is not running. Either way there is no container to exec in.
  if (answer.statusCode === 404 || answer.statusCode === 409) {
    throw new AgentError(AgentErrorCode.ContainerNotFound, `exec in container ${id}: ${engineMessage(answer)}`);
  }
  const execId = (answer.body as { Id?: unknown } | undefined)?.Id;
  if (answer.statusCode !== 201 || typeof execId !== 'string') {
    throw new AgentError(AgentErrorCode.RuntimeUnavailable, `exec in container ${id}: ${engineMessage(answer)}`);
  }
  return execId;
}

async function readOutput(http: DockerHttp, id: string, execId: string, timeoutMs: number, limits: ExecLimits, signal: AbortSignal): Promise<string> {
  // Without an Upgrade header the engine answers 200, hijacks the connection and closes it at the end.
  const stream = await http.stream('POST', `/exec/${encodeURIComponent(execId)}/start`, {
    json: { Detach: false, Tty: false },
    headersTimeoutMs: timeoutMs + limits.callTimeoutMs,
    bodyTimeoutMs: 0,
    signal,
  });
  try {
    if (stream.statusCode !== 200) {
      throw new AgentError(AgentErrorCode.RuntimeUnavailable, `exec in container ${id}: starting it answered ${stream.statusCode}`);
    }
    const decoder = new DockerFrameDecoder(limits.frameBytesMax, `exec in container ${id}`);
    const kept = Buffer.alloc(limits.outputBytesMax);
    let keptBytes = 0;
    for await (const chunk of stream.body as AsyncIterable<Buffer>) {
      for (const payload of decoder.push(chunk)) {
        // Past the limit the output is read and dropped: the exit code comes only after the end.
        keptBytes += payload.copy(kept, keptBytes, 0, Math.min(payload.length, limits.outputBytesMax - keptBytes));
      }
    }
    return kept.toString('utf8', 0, keptBytes);
  } catch (error) {
    throw http.unreachable(error, `exec in container ${id}`, signal);
  } finally {
    await stream.release();
  }
}

async function exitCodeOf(http: DockerHttp, clock: Clock, execId: string, limits: ExecLimits, signal: AbortSignal): Promise<number> {
  // The output can end a moment before the engine records the exit; the deadline bounds the asking.
  for (;;) {
    const answer = await http.call('GET', `/exec/${encodeURIComponent(execId)}/json`, { timeoutMs: limits.callTimeoutMs, signal });
    const body = answer.body as { Running?: unknown; ExitCode?: unknown } | undefined;
    if (answer.statusCode !== 200) {
      throw new AgentError(AgentErrorCode.RuntimeUnavailable, `exec ${execId}: ${engineMessage(answer)}`);
    }
    if (body?.Running === false && typeof body.ExitCode === 'number') return body.ExitCode;
    await sleep(clock, limits.exitPollMs, signal);
  }
}
