// The chaos workloads over the KV API. Client workers each run one operation at a time against a
// master chosen at random (followers forward writes and serve reads through ReadIndex, so every
// path is exercised), and record it: a register workload (read, write, compare-and-swap on a few
// keys, every written value unique) and a list-append workload (appends inside txns that compare
// the list's mod revision and read it back). Watchers, one per master, follow the whole prefix
// and resume from their last revision after a break.

import { request } from 'undici';
import type { Random } from '@raftplane/raft';
import type { Operation, WatchEvent } from '../checkers/history.js';
import type { KvOps } from './kv-ops.js';
import type { Recorder } from './recorder.js';

export const CHAOS_PREFIX = 'chaos/';
export const REGISTER_PREFIX = `${CHAOS_PREFIX}r/`;
export const LIST_PREFIX = `${CHAOS_PREFIX}l/`;
/** etcd's range end for every key under CHAOS_PREFIX. */
export const CHAOS_RANGE_END = 'chaos0';

export interface WorkloadOptions {
  readonly masters: readonly number[];
  readonly registerKeys: number;
  /** Appends a list key takes before the workload moves on to a fresh one (keeps lists and partitions small). */
  readonly appendsPerList: number;
  /** Share of operations that go to the list workload, 0..1. */
  readonly listShare: number;
}

type Invoked = Omit<Operation, 'completeMs' | 'outcome' | 'output' | 'revision' | 'error' | 'master'>;

/** Runs client workers until stopped; every operation goes to the recorder. */
export class ClientWorkload {
  private stopped = false;
  private nextId = 1;
  private appendsInvoked = 0;
  private readonly workers: Promise<void>[] = [];

  constructor(
    private readonly ops: KvOps,
    private readonly recorder: Recorder,
    private readonly random: Random,
    private readonly options: WorkloadOptions,
  ) {}

  start(clients: number): void {
    for (let p = 0; p < clients; p++) this.workers.push(this.worker(p));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.random.int(items.length)] as T;
  }

  private async worker(process: number): Promise<void> {
    for (let seq = 0; !this.stopped; seq++) {
      const master = this.pick(this.options.masters);
      const value = `p${process}-${seq}`;
      if (this.random.int(1000) < this.options.listShare * 1000) await this.listOp(process, master, value);
      else await this.registerOp(process, master, value);
    }
  }

  private begin(process: number, key: string, kind: Operation['kind'], input: Operation['input']): Invoked {
    return { type: 'op', id: this.nextId++, process, key, kind, input, invokeMs: this.recorder.now() };
  }

  private end(invoked: Invoked, master: number, attempt: { outcome: 'ok'; revision: number } | { outcome: 'fail' | 'unknown'; error: string }, output?: Operation['output']): void {
    const base = { ...invoked, completeMs: this.recorder.now(), master };
    if (attempt.outcome === 'ok') this.recorder.add({ ...base, outcome: 'ok', revision: attempt.revision, ...(output === undefined ? {} : { output }) });
    else this.recorder.add({ ...base, outcome: attempt.outcome, error: attempt.error });
  }

  private async pause(outcome: string): Promise<void> {
    if (outcome !== 'ok') await new Promise((r) => setTimeout(r, 50 + this.random.int(100)));
  }

  private async registerOp(process: number, master: number, value: string): Promise<void> {
    const key = `${REGISTER_PREFIX}${this.random.int(this.options.registerKeys)}`;
    const roll = this.random.int(10);
    if (roll < 4) {
      const op = this.begin(process, key, 'read', {});
      const attempt = await this.ops.read(master, key);
      this.end(op, master, attempt, attempt.outcome === 'ok' ? { value: attempt.value.value } : undefined);
      return this.pause(attempt.outcome);
    }
    if (roll < 7) {
      const op = this.begin(process, key, 'write', { value });
      const attempt = await this.ops.write(master, key, value);
      this.end(op, master, attempt);
      return this.pause(attempt.outcome);
    }
    // Compare-and-swap from a value this client read a moment ago (often still current, sometimes not).
    const seen = await this.ops.read(master, key);
    if (seen.outcome !== 'ok') return this.pause(seen.outcome);
    const op = this.begin(process, key, 'cas', { from: seen.value.value, to: value });
    const attempt = await this.ops.cas(master, key, seen.value.value, value);
    this.end(op, master, attempt, attempt.outcome === 'ok' ? { succeeded: attempt.value } : undefined);
    return this.pause(attempt.outcome);
  }

  private async listOp(process: number, master: number, element: string): Promise<void> {
    // A few list keys are active at a time; the window moves on as appends accumulate.
    const generation = Math.floor(this.appendsInvoked / this.options.appendsPerList);
    const key = `${LIST_PREFIX}${generation + this.random.int(3)}`;
    if (this.random.int(10) < 3) {
      const op = this.begin(process, key, 'readList', {});
      const attempt = await this.ops.read(master, key);
      this.end(op, master, attempt, attempt.outcome === 'ok' ? { value: attempt.value.value ?? '' } : undefined);
      return this.pause(attempt.outcome);
    }
    this.appendsInvoked++;
    const op = this.begin(process, key, 'append', { value: element });
    // One operation, retried while the txn's compare fails (a failed compare writes nothing).
    for (let tries = 0; tries < 20 && !this.stopped; tries++) {
      const seen = await this.ops.read(master, key);
      if (seen.outcome !== 'ok') {
        this.end(op, master, { outcome: 'fail', error: `reading the list first: ${seen.error}` });
        return this.pause(seen.outcome);
      }
      const attempt = await this.ops.appendIf(master, key, seen.value.value, seen.value.modRevision, element);
      if (attempt.outcome !== 'ok') {
        this.end(op, master, attempt);
        return this.pause(attempt.outcome);
      }
      if (attempt.value !== null) {
        this.end(op, master, attempt, { value: attempt.value });
        return;
      }
    }
    this.end(op, master, { outcome: 'fail', error: 'the list kept changing under the append (20 compares failed)' });
  }
}

/** An event as etcd's gateway writes it. */
export interface WatchEventJson {
  readonly type?: 'PUT' | 'DELETE';
  readonly kv: { readonly key: string; readonly value?: string; readonly mod_revision: string; readonly create_revision?: string; readonly version?: string };
}

/** One message of a watch stream as etcd's gateway writes it (inside `result`). */
export interface WatchResponseJson {
  readonly header?: { readonly revision?: string };
  readonly created?: boolean;
  readonly canceled?: boolean;
  readonly compact_revision?: string;
  readonly cancel_reason?: string;
  readonly events?: readonly WatchEventJson[];
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString();

export function decodeWatchEvent(e: WatchEventJson): WatchEvent {
  return {
    type: e.type ?? 'PUT',
    key: unb64(e.kv.key),
    value: unb64(e.kv.value),
    modRevision: Number(e.kv.mod_revision),
    createRevision: Number(e.kv.create_revision ?? 0),
    version: Number(e.kv.version ?? 0),
  };
}

/**
 * A watcher on the whole chaos prefix, first on its own master: on a broken stream, or a stream
 * silent for `silenceMs` (a paused or cut-off master; masters send progress notifications every
 * second in chaos runs), it resumes from the last revision seen + 1 on the next master.
 */
export class ChaosWatcher {
  private lastRevision: number;
  private stopped = false;
  private abort: AbortController | null = null;
  private done: Promise<void> | null = null;
  private endpointIndex: number;
  /** A watch-open was recorded and its watch-closed not yet. */
  private open = false;
  /** Watches created, and how many of them resumed an earlier one. */
  private sessions = 0;
  resumes = 0;

  constructor(
    readonly name: string,
    private readonly endpoints: readonly { id: number; url: string }[],
    first: number,
    startRevision: number,
    private readonly recorder: Recorder,
    private readonly silenceMs: number,
  ) {
    this.lastRevision = startRevision - 1;
    this.endpointIndex = first;
  }

  get lastSeenRevision(): number {
    return this.lastRevision;
  }

  start(): void {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const endpoint = this.endpoints[this.endpointIndex % this.endpoints.length] as { id: number; url: string };
      let reason = 'the stream ended';
      let compactRevision: number | undefined;
      try {
        compactRevision = await this.follow(endpoint);
        if (compactRevision !== undefined) reason = 'canceled: compacted';
      } catch (error) {
        reason = (error as Error).message;
      }
      // Only a watch that was created is closed: a master that never answered opened nothing.
      if (this.open) this.recorder.add({ type: 'watch-closed', watcher: this.name, reason, atMs: this.recorder.now(), ...(compactRevision === undefined ? {} : { compactRevision }) });
      this.open = false;
      // Cancelled as compacted: what it missed is gone; go on from the oldest revision kept.
      if (compactRevision !== undefined) this.lastRevision = Math.max(this.lastRevision, compactRevision - 1);
      if (this.stopped) return;
      this.endpointIndex++;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Follows one stream until it breaks; the compact revision when it was cancelled as compacted. */
  private async follow(endpoint: { id: number; url: string }): Promise<number | undefined> {
    const abort = new AbortController();
    this.abort = abort;
    let silence: NodeJS.Timeout | null = null;
    const quiet = (): void => {
      if (silence !== null) clearTimeout(silence);
      silence = setTimeout(() => abort.abort(new Error(`no message for ${this.silenceMs} ms`)), this.silenceMs);
    };
    const startRevision = this.lastRevision + 1;
    const body = JSON.stringify({ create_request: { key: b64(CHAOS_PREFIX), range_end: b64(CHAOS_RANGE_END), start_revision: String(startRevision), progress_notify: true } });
    try {
      quiet();
      const res = await request(`${endpoint.url}/v3/watch`, { method: 'POST', body, signal: abort.signal, headersTimeout: this.silenceMs, bodyTimeout: 0 });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`HTTP ${res.statusCode} from master ${endpoint.id}`);
      }
      this.open = true;
      if (this.sessions++ > 0) this.resumes++;
      this.recorder.add({ type: 'watch-open', watcher: this.name, master: endpoint.id, key: CHAOS_PREFIX, rangeEnd: CHAOS_RANGE_END, startRevision, atMs: this.recorder.now() });
      let buffered = '';
      for await (const chunk of res.body) {
        quiet();
        buffered += (chunk as Buffer).toString();
        for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          const parsed = JSON.parse(line) as { result?: WatchResponseJson; error?: { message?: string } };
          if (parsed.result === undefined) throw new Error(`master ${endpoint.id} ended the stream: ${parsed.error?.message ?? line}`);
          const compacted = this.take(parsed.result);
          if (compacted !== undefined) return compacted;
        }
      }
      return undefined;
    } catch (error) {
      if (abort.signal.aborted && abort.signal.reason instanceof Error) throw abort.signal.reason;
      throw error;
    } finally {
      if (silence !== null) clearTimeout(silence);
      abort.abort();
    }
  }

  private take(response: WatchResponseJson): number | undefined {
    if (response.canceled === true) return Number(response.compact_revision ?? 0) || undefined;
    const events = (response.events ?? []).map(decodeWatchEvent);
    if (events.length === 0) return undefined;
    this.recorder.add({ type: 'watch-events', watcher: this.name, events, atMs: this.recorder.now() });
    for (const e of events) this.lastRevision = Math.max(this.lastRevision, e.modRevision);
    return undefined;
  }

  /** Waits until this watcher has seen `revision` (or `timeoutMs` passed), then stops it. */
  async stopAt(revision: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.lastRevision < revision && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.stopped = true;
    this.abort?.abort(new Error('stopped'));
    await this.done;
    return this.lastRevision >= revision;
  }
}
