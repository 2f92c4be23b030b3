// A watcher over etcd's JSON gateway (the streaming POST /v3/watch), for process tests: it keeps
// every response, and on a broken stream resumes on the next endpoint from the last revision seen,
// as an etcd client would.

import { request } from 'undici';

export interface SeenEvent {
  readonly revision: number;
  readonly type: 'PUT' | 'DELETE';
  readonly key: string;
  readonly value: string;
}

interface WatchResponseJson {
  readonly header?: { readonly revision?: string };
  readonly created?: boolean;
  readonly canceled?: boolean;
  readonly compact_revision?: string;
  readonly cancel_reason?: string;
  readonly events?: readonly {
    readonly type?: 'PUT' | 'DELETE';
    readonly kv: { readonly key: string; readonly mod_revision: string; readonly value?: string };
  }[];
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString();

/** The first key after every key starting with `prefix` (etcd's prefix range end). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) + 1;
  return bytes.toString();
}

export class ResumingWatcher {
  /** Every event received, in arrival order. */
  readonly events: SeenEvent[] = [];
  /** Each response's events, as they came: all events of one revision must share one response. */
  readonly batches: SeenEvent[][] = [];
  /** The endpoints this watcher was served by, in order, and how many times it resumed. */
  readonly servedBy: string[] = [];
  resumes = 0;
  private lastRevision: number;
  private stopped = false;
  private abort: AbortController | null = null;
  private readonly done: Promise<void>;
  private endpointIndex: number;

  constructor(
    private readonly endpoints: readonly string[],
    private readonly prefix: string,
    startRevision: number,
    firstEndpoint = 0,
  ) {
    this.lastRevision = startRevision - 1;
    this.endpointIndex = firstEndpoint;
    this.done = this.run();
  }

  get lastSeenRevision(): number {
    return this.lastRevision;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const endpoint = this.endpoints[this.endpointIndex % this.endpoints.length] as string;
      try {
        await this.follow(endpoint);
      } catch {
        // The master went away (or never answered): resume elsewhere from the last revision seen.
      }
      if (this.stopped) return;
      this.resumes++;
      this.endpointIndex++;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async follow(endpoint: string): Promise<void> {
    this.abort = new AbortController();
    const body = JSON.stringify({ create_request: { key: b64(this.prefix), range_end: b64(prefixEnd(this.prefix)), start_revision: String(this.lastRevision + 1) } });
    const res = await request(`${endpoint}/v3/watch`, { method: 'POST', body, signal: this.abort.signal, headersTimeout: 2_000, bodyTimeout: 0 });
    if (res.statusCode !== 200) throw new Error(`watch on ${endpoint}: HTTP ${res.statusCode}`);
    this.servedBy.push(endpoint);
    let buffered = '';
    for await (const chunk of res.body) {
      buffered += (chunk as Buffer).toString();
      for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const parsed = JSON.parse(line) as { result?: WatchResponseJson; error?: unknown };
        if (parsed.result === undefined) throw new Error(`watch on ${endpoint} ended: ${JSON.stringify(parsed.error)}`);
        this.take(parsed.result);
      }
    }
  }

  private take(response: WatchResponseJson): void {
    if (response.canceled === true) throw new Error(`watch canceled: ${response.cancel_reason ?? ''} compact_revision ${response.compact_revision ?? ''}`);
    const batch: SeenEvent[] = [];
    for (const event of response.events ?? []) {
      const seen: SeenEvent = {
        revision: Number(event.kv.mod_revision),
        type: event.type ?? 'PUT',
        key: unb64(event.kv.key),
        value: unb64(event.kv.value),
      };
      this.events.push(seen);
      batch.push(seen);
      this.lastRevision = Math.max(this.lastRevision, seen.revision);
    }
    if (batch.length > 0) this.batches.push(batch);
  }

  /** Waits until this watcher has seen `revision`, then stops it. */
  async stopAt(revision: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lastRevision < revision && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.stopped = true;
    this.abort?.abort();
    await this.done;
    if (this.lastRevision < revision) throw new Error(`watcher on ${this.prefix} saw up to ${this.lastRevision}, not ${revision}, within ${timeoutMs} ms`);
  }
}
