// A small client for the masters' HTTP port, used by the cluster script, the process tests and the
// benchmarks: status of every master, leader discovery, and etcd-API puts and gets.

import { Agent, request, type Dispatcher } from 'undici';
import type { ClusterConfig } from './config.js';
import type { MasterStatus } from './master.js';

/** A write that was applied: where (revision) and by which master's API it was answered. */
export interface WriteOutcome {
  readonly ok: true;
  readonly revision: number;
  readonly master: number;
  /** Tries it took (put() retries on a master that does not answer or has no leader). */
  readonly attempts: number;
}
export interface WriteFailure {
  readonly ok: false;
  readonly attempts: number;
  /** The HTTP status, or 0 when no master answered. */
  readonly status: number;
  /** etcd's gRPC code (0 when no master answered). */
  readonly code: number;
  readonly message: string;
}

/** A key as one master's store holds it (serializable read). */
export interface StoredKey {
  readonly value: string;
  readonly modRevision: number;
  readonly version: number;
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString();

export class MasterClient {
  private readonly dispatcher: Agent;
  private readonly endpoints: ReadonlyMap<number, string>;
  /** The master believed to lead; proposals go there first. */
  leaderHint = 0;

  constructor(config: ClusterConfig, options: { connections?: number; timeoutMs?: number } = {}) {
    this.endpoints = new Map(config.masters.map((m) => [m.id, `http://${m.api.host}:${m.api.port}`]));
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.dispatcher = new Agent({
      connections: options.connections ?? 8,
      keepAliveTimeout: 4_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: { timeout: 2_000 },
    });
    this.leaderHint = config.masters[0]?.id ?? 0;
  }

  ids(): number[] {
    return [...this.endpoints.keys()];
  }

  private url(id: number, path: string): string {
    const base = this.endpoints.get(id);
    if (base === undefined) throw new Error(`no master ${id} in the cluster config`);
    return `${base}${path}`;
  }

  /** Reads answer fast or not at all: a paused master accepts connections but never replies. */
  private async getPath(id: number, path: string): Promise<Dispatcher.ResponseData> {
    return request(this.url(id, path), { method: 'GET', dispatcher: this.dispatcher, headersTimeout: 1_500, bodyTimeout: 1_500 });
  }

  /** A master's /status, or null when it does not answer. */
  async status(id: number): Promise<MasterStatus | null> {
    try {
      const res = await this.getPath(id, '/status');
      if (res.statusCode !== 200) {
        await res.body.dump();
        return null;
      }
      return (await res.body.json()) as MasterStatus;
    } catch {
      return null;
    }
  }

  async statusAll(): Promise<Map<number, MasterStatus | null>> {
    const ids = this.ids();
    const all = await Promise.all(ids.map((id) => this.status(id)));
    return new Map(ids.map((id, i) => [id, all[i] ?? null]));
  }

  /** The leader that the answering masters agree on (highest term), or 0. */
  async leader(): Promise<number> {
    let best: MasterStatus | null = null;
    for (const s of (await this.statusAll()).values()) {
      if (s !== null && s.role === 'leader' && (best === null || s.term > best.term)) best = s;
    }
    if (best !== null) this.leaderHint = best.id;
    return best?.id ?? 0;
  }

  /** One attempt at one master: etcd's PUT through its JSON gateway. */
  async putAt(id: number, key: string, value: string, session?: { clientId: string; sequence: number }): Promise<WriteOutcome | WriteFailure> {
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (session !== undefined) {
        headers['x-raftplane-client-id'] = session.clientId;
        headers['x-raftplane-sequence'] = String(session.sequence);
      }
      const res = await request(this.url(id, '/v3/kv/put'), {
        method: 'POST',
        body: JSON.stringify({ key: b64(key), value: b64(value) }),
        headers,
        dispatcher: this.dispatcher,
      });
      const body = (await res.body.json()) as { header?: { revision?: string }; code?: number; message?: string };
      if (res.statusCode === 200) return { ok: true, revision: Number(body.header?.revision ?? 0), master: id, attempts: 1 };
      return { ok: false, status: res.statusCode, code: body.code ?? 0, message: String(body.message), attempts: 1 };
    } catch (error) {
      return { ok: false, status: 0, code: 0, message: (error as Error).message, attempts: 1 };
    }
  }

  /**
   * Puts, retrying on any master until `deadlineMs` while no leader is known or a master is down.
   * With a session, retries are safe: the cluster applies the write once (exactly-once). Without
   * one, a timed-out write (504-like "request timed out") is returned, never retried.
   */
  async put(key: string, value: string, options: { deadlineMs?: number; session?: { clientId: string; sequence: number } } = {}): Promise<WriteOutcome | WriteFailure> {
    const deadline = Date.now() + (options.deadlineMs ?? 10_000);
    const ids = this.ids();
    for (let attempt = 0; ; attempt++) {
      const outcome = { ...(await this.putAt(this.leaderHint, key, value, options.session)), attempts: attempt + 1 };
      if (outcome.ok) return outcome;
      // "leader changed" and "no leader" mean not applied: retry. A cut connection or a timeout may
      // have been applied: retry only with a session, which makes the retry apply at most once.
      const notApplied = outcome.message === 'etcdserver: no leader' || outcome.message === 'etcdserver: leader changed';
      const unknown = outcome.status === 0 || outcome.message === 'etcdserver: request timed out';
      if (Date.now() >= deadline || !(notApplied || (unknown && options.session !== undefined))) return outcome;
      // A master that did not answer, or that has no leader, is skipped: followers forward writes.
      this.leaderHint = ids[(ids.indexOf(this.leaderHint) + 1) % ids.length] as number;
      await new Promise((r) => setTimeout(r, Math.min(200, 10 * (attempt + 1))));
    }
  }

  /** Any etcd gateway call on master `id`: the HTTP status and the parsed JSON answer. */
  async call(id: number, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await request(this.url(id, path), {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      dispatcher: this.dispatcher,
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  }

  /** `key` as master `id` holds it, read locally (serializable), or null when absent. */
  async get(id: number, key: string): Promise<StoredKey | null> {
    const res = await request(this.url(id, '/v3/kv/range'), {
      method: 'POST',
      body: JSON.stringify({ key: b64(key), serializable: true }),
      headers: { 'content-type': 'application/json' },
      dispatcher: this.dispatcher,
    });
    const body = (await res.body.json()) as { kvs?: { value?: string; mod_revision?: string; version?: string }[] };
    if (res.statusCode !== 200) throw new Error(`range ${key} on master ${id}: HTTP ${res.statusCode} ${JSON.stringify(body)}`);
    const kv = body.kvs?.[0];
    if (kv === undefined) return null;
    return { value: unb64(kv.value), modRevision: Number(kv.mod_revision ?? 0), version: Number(kv.version ?? 0) };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
