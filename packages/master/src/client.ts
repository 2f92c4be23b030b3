// A small client for the masters' HTTP port, used by the cluster script, the process tests and the
// benchmark: status of every master, leader discovery, and proposals that follow the leader.

import { Agent, request, type Dispatcher } from 'undici';
import type { ClusterConfig } from './config.js';
import type { Applied, MasterStatus } from './master.js';

export interface ProposeOutcome {
  readonly ok: true;
  readonly applied: Applied;
  readonly master: number;
}
export interface ProposeFailure {
  readonly ok: false;
  /** The HTTP status, or 0 when no master answered. */
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

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
  private async get(id: number, path: string): Promise<Dispatcher.ResponseData> {
    return request(this.url(id, path), { method: 'GET', dispatcher: this.dispatcher, headersTimeout: 1_500, bodyTimeout: 1_500 });
  }

  /** A master's /status, or null when it does not answer. */
  async status(id: number): Promise<MasterStatus | null> {
    try {
      const res = await this.get(id, '/status');
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

  /** One attempt at one master. */
  async proposeAt(id: number, payload: Uint8Array): Promise<ProposeOutcome | ProposeFailure> {
    try {
      const res = await request(this.url(id, '/test/proposals'), {
        method: 'POST',
        body: payload,
        headers: { 'content-type': 'application/octet-stream' },
        dispatcher: this.dispatcher,
      });
      const body = (await res.body.json()) as Record<string, unknown>;
      if (res.statusCode === 201) return { ok: true, applied: body as unknown as Applied, master: id };
      const leader = Number(body['leader'] ?? 0);
      if (leader > 0) this.leaderHint = leader;
      return { ok: false, status: res.statusCode, code: String(body['code']), message: String(body['message']) };
    } catch (error) {
      return { ok: false, status: 0, code: (error as { code?: string }).code ?? 'ECONNECTION', message: (error as Error).message };
    }
  }

  /**
   * Proposes, following the leader and retrying until `deadlineMs` while no leader is known or a
   * master is down. A 504 (timed out: the outcome is unknown) is returned, never retried.
   */
  async propose(payload: Uint8Array, deadlineMs = 10_000): Promise<ProposeOutcome | ProposeFailure> {
    const deadline = Date.now() + deadlineMs;
    const ids = this.ids();
    let attempt = 0;
    for (;;) {
      const outcome = await this.proposeAt(this.leaderHint, payload);
      if (outcome.ok || outcome.status === 504 || outcome.status === 400 || outcome.status === 413) return outcome;
      if (Date.now() >= deadline) return outcome;
      attempt++;
      // A master that does not answer is skipped; one that answered named the leader if it knew.
      if (outcome.status === 0) this.leaderHint = ids[attempt % ids.length] as number;
      await new Promise((r) => setTimeout(r, Math.min(200, 10 * attempt)));
    }
  }

  /** The payload a master applied at `index`, or null. */
  async entry(id: number, index: number): Promise<Uint8Array | null> {
    const res = await this.get(id, `/test/entries/${index}`);
    if (res.statusCode !== 200) {
      await res.body.dump();
      return null;
    }
    return new Uint8Array(await res.body.arrayBuffer());
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
