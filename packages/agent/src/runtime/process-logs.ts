// Reading a process-runtime container's log file as Kubernetes' pods/log serves it: the last N
// lines, then (with follow) what is appended until the container has exited or the reader gives up.
//
// The file is the raw stdout and stderr of the command, with no per-line times (the command writes
// to it directly, nothing in between could stamp lines). So:
//   - `timestamps` is ignored: a time made up at read time would be a lie about when a line was written.
//   - `sinceMs` can only be honoured for the file as a whole: when the file was last written before
//     sinceMs, all of its existing output is older and is skipped (new output, when following, is
//     sent); otherwise all of it is sent, since which lines are older cannot be told.
//     The file's mtime is the kernel's clock, which is the wall clock outside tests.

import { open, type FileHandle } from 'node:fs/promises';
import type { LogOptions } from './runtime.js';
import { errorCode } from './process-state.js';

/** Bytes read (and yielded) at a time; also the step of the backwards scan for tailLines. */
export const LOG_CHUNK_BYTES = 64 * 1024;
/** How often a follower looks for new output (the file is written by the container, not by us). */
export const LOG_FOLLOW_POLL_MS = 150;

export interface LogSource {
  readonly path: string;
  /** True once the container has exited, so that everything it wrote is in the file. */
  hasExited(): boolean;
  /** Resolves after `ms`, or sooner when the container exits or `signal` aborts; never rejects. */
  waitForChange(ms: number, signal: AbortSignal): Promise<void>;
}

/** The log as chunks of at most LOG_CHUNK_BYTES. Aborting `options.signal` ends the stream (no error). */
export async function* readLog(source: LogSource, options: LogOptions): AsyncGenerator<Uint8Array, void, undefined> {
  const { signal } = options;
  if (signal.aborted) return;
  let handle: FileHandle;
  try {
    handle = await open(source.path, 'r');
  } catch (error) {
    // No output yet (or the file was removed with the container): nothing to send.
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  try {
    let offset = await startOffset(handle, options);
    // One scratch buffer per stream; each yielded chunk is a copy, since the reader may keep it.
    const scratch = Buffer.allocUnsafe(LOG_CHUNK_BYTES);
    for (;;) {
      // Look at the state before reading: output written before the exit is in the file by then,
      // so a read after seeing "exited" gets all of it.
      const exited = source.hasExited();
      for (;;) {
        const { bytesRead } = await handle.read(scratch, 0, LOG_CHUNK_BYTES, offset);
        if (bytesRead === 0 || signal.aborted) break;
        offset += bytesRead;
        yield new Uint8Array(scratch.subarray(0, bytesRead));
      }
      if (!options.follow || exited || signal.aborted) return;
      await source.waitForChange(LOG_FOLLOW_POLL_MS, signal);
    }
  } finally {
    await handle.close();
  }
}

async function startOffset(handle: FileHandle, options: LogOptions): Promise<number> {
  const stat = await handle.stat();
  if (options.sinceMs !== undefined && stat.mtimeMs < options.sinceMs) return stat.size;
  if (options.tailLines === undefined) return 0;
  if (!Number.isSafeInteger(options.tailLines) || options.tailLines < 0) throw new RangeError(`tailLines ${options.tailLines} is not an integer >= 0`);
  return tailOffset(handle, stat.size, options.tailLines);
}

/**
 * The offset where the last `lines` lines start. A final line without its newline counts as a line;
 * the file's final newline does not start one. Reads backwards a chunk at a time, so the cost is the
 * size of those lines, not of the file.
 */
export async function tailOffset(handle: FileHandle, size: number, lines: number): Promise<number> {
  if (lines === 0 || size === 0) return size;
  const buffer = Buffer.allocUnsafe(LOG_CHUNK_BYTES);
  let end = size;
  let newlines = 0;
  let skipFinalNewline = true;
  while (end > 0) {
    const start = Math.max(0, end - LOG_CHUNK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buffer[i] !== 0x0a) {
        skipFinalNewline = false;
        continue;
      }
      if (skipFinalNewline) {
        skipFinalNewline = false;
        continue;
      }
      newlines += 1;
      if (newlines === lines) return start + i + 1;
    }
    end = start;
  }
  return 0;
}
