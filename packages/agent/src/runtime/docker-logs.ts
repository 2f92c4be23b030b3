// A container's output from the engine's json-file log (GET /containers/{id}/logs), demultiplexed
// into plain bytes as Kubernetes' pods/log serves them. The stream ends when the container's output
// does (or, following, when it exits); an abort ends it quietly, since whoever aborted stopped reading.

import { AgentError, AgentErrorCode } from '../errors.js';
import { DockerFrameDecoder } from './docker-frames.js';
import type { DockerHttp, DockerQuery } from './docker-http.js';
import type { LogOptions } from './runtime.js';

export interface LogLimits {
  readonly callTimeoutMs: number;
  readonly frameBytesMax: number;
}

/** The query Docker wants: `since` in seconds with nanoseconds, `tail` a count or `all`. */
export function logQuery(options: LogOptions): DockerQuery {
  let since: string | undefined;
  if (options.sinceMs !== undefined) {
    const ms = Math.max(0, Math.floor(options.sinceMs));
    since = `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1_000_000).padStart(9, '0')}`;
  }
  return {
    stdout: 1,
    stderr: 1,
    follow: options.follow ? 1 : 0,
    tail: options.tailLines === undefined ? 'all' : Math.max(0, Math.floor(options.tailLines)),
    since,
    timestamps: options.timestamps ? 1 : 0,
  };
}

export async function* containerLogs(http: DockerHttp, id: string, options: LogOptions, limits: LogLimits): AsyncGenerator<Uint8Array, void, undefined> {
  const signal = options.signal;
  if (signal.aborted) return;
  let stream;
  try {
    stream = await http.stream('GET', `/containers/${encodeURIComponent(id)}/logs`, {
      query: logQuery(options),
      headersTimeoutMs: limits.callTimeoutMs,
      // Following, silence is normal; otherwise the engine reads a file and sends it at once.
      bodyTimeoutMs: options.follow ? 0 : limits.callTimeoutMs,
      signal,
    });
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  }
  try {
    if (stream.statusCode === 404) throw new AgentError(AgentErrorCode.ContainerNotFound, `logs of container ${id}: no such container`);
    if (stream.statusCode !== 200) throw new AgentError(AgentErrorCode.RuntimeUnavailable, `logs of container ${id}: the engine answered ${stream.statusCode}`);
    const decoder = new DockerFrameDecoder(limits.frameBytesMax, `logs of container ${id}`);
    for await (const chunk of stream.body as AsyncIterable<Buffer>) {
      for (const payload of decoder.push(chunk)) yield payload;
    }
  } catch (error) {
    if (signal.aborted) return;
    throw http.unreachable(error, `logs of container ${id}`, signal);
  } finally {
    await stream.release();
  }
}
