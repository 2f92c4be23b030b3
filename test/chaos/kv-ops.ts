// The chaos workloads' client: one attempt of one operation at one master, over etcd's JSON
// gateway, classified the way a linearizability checker needs it: ok, fail (certainly not
// applied) or unknown (a timeout or a broken connection: it may take effect, at any time later).

import { Agent, request } from 'undici';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString();

/**
 * etcd errors that guarantee the request changed nothing: refused before proposing, or a
 * proposal that a different entry replaced at its index (ours: "leader changed").
 */
const NOT_APPLIED = new Set(['etcdserver: no leader', 'etcdserver: not leader', 'etcdserver: leader changed', 'etcdserver: too many requests']);

export type Attempt<T> =
  | { readonly outcome: 'ok'; readonly value: T; readonly revision: number }
  | { readonly outcome: 'fail' | 'unknown'; readonly error: string };

interface KeyValueJson {
  readonly key?: string;
  readonly value?: string;
  readonly mod_revision?: string;
}
interface RangeJson {
  readonly header?: { readonly revision?: string };
  readonly kvs?: readonly KeyValueJson[];
}
interface TxnJson {
  readonly header?: { readonly revision?: string };
  readonly succeeded?: boolean;
  readonly responses?: readonly { readonly response_range?: RangeJson }[];
}

/** A key's value and mod revision as a linearizable read saw it (null value: absent). */
export interface ReadResult {
  readonly value: string | null;
  readonly modRevision: number;
}

export class KvOps {
  private readonly dispatcher: Agent;

  constructor(
    private readonly endpoints: ReadonlyMap<number, string>,
    /** A request not answered within this is abandoned: unknown. */
    private readonly timeoutMs: number,
  ) {
    this.dispatcher = new Agent({ connections: 16, keepAliveTimeout: 4_000, connect: { timeout: Math.min(timeoutMs, 1_000) } });
  }

  private async call<T>(master: number, path: string, body: unknown, readOnly: boolean, take: (json: Record<string, unknown>) => T): Promise<Attempt<T>> {
    const url = `${this.endpoints.get(master) as string}${path}`;
    try {
      const res = await request(url, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
        dispatcher: this.dispatcher,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const json = (await res.body.json()) as Record<string, unknown>;
      if (res.statusCode === 200) {
        const header = json['header'] as { revision?: string } | undefined;
        return { outcome: 'ok', value: take(json), revision: Number(header?.revision ?? 0) };
      }
      const message = String(json['message'] ?? `HTTP ${res.statusCode}`);
      // A read that failed changed nothing, whatever the reason.
      return { outcome: readOnly || NOT_APPLIED.has(message) ? 'fail' : 'unknown', error: message };
    } catch (error) {
      // A connection never made carried nothing: not applied. Anything later may have been.
      const code = (error as { code?: string }).code;
      const neverSent = code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT';
      return { outcome: readOnly || neverSent ? 'fail' : 'unknown', error: (error as Error).message };
    }
  }

  /** A linearizable read of one key. */
  read(master: number, key: string): Promise<Attempt<ReadResult>> {
    return this.call(master, '/v3/kv/range', { key: b64(key) }, true, (json) => {
      const kv = (json as RangeJson).kvs?.[0];
      return kv === undefined ? { value: null, modRevision: 0 } : { value: unb64(kv.value), modRevision: Number(kv.mod_revision ?? 0) };
    });
  }

  write(master: number, key: string, value: string): Promise<Attempt<null>> {
    return this.call(master, '/v3/kv/put', { key: b64(key), value: b64(value) }, false, () => null);
  }

  /** Puts `to` if the key holds `from` (absent when null); the value is whether the compare held. */
  cas(master: number, key: string, from: string | null, to: string): Promise<Attempt<boolean>> {
    const compare = from === null ? { key: b64(key), target: 'CREATE', result: 'EQUAL', create_revision: '0' } : { key: b64(key), target: 'VALUE', result: 'EQUAL', value: b64(from) };
    return this.call(master, '/v3/kv/txn', { compare: [compare], success: [{ request_put: { key: b64(key), value: b64(to) } }] }, false, (json) => (json as TxnJson).succeeded === true);
  }

  /**
   * Appends to a list held as one value (elements joined by ',') in one txn, if the key is still
   * at `modRevision` (0: absent); the txn reads the list back. The value: the list after, or
   * null when the compare failed (nothing written).
   */
  appendIf(master: number, key: string, current: string | null, modRevision: number, element: string): Promise<Attempt<string | null>> {
    const next = current === null || current === '' ? element : `${current},${element}`;
    const body = {
      compare: [{ key: b64(key), target: 'MOD', result: 'EQUAL', mod_revision: String(modRevision) }],
      success: [{ request_put: { key: b64(key), value: b64(next) } }, { request_range: { key: b64(key) } }],
    };
    return this.call(master, '/v3/kv/txn', body, false, (json) => {
      const txn = json as TxnJson;
      if (txn.succeeded !== true) return null;
      return unb64(txn.responses?.[1]?.response_range?.kvs?.[0]?.value);
    });
  }

  /** Every key under `prefix` with its value, and the revision read at (linearizable). */
  async readPrefix(master: number, prefix: string, rangeEnd: string): Promise<Attempt<Map<string, string>>> {
    return this.call(master, '/v3/kv/range', { key: b64(prefix), range_end: b64(rangeEnd) }, true, (json) => {
      const out = new Map<string, string>();
      for (const kv of (json as RangeJson).kvs ?? []) out.set(unb64(kv.key), unb64(kv.value));
      return out;
    });
  }

  async close(): Promise<void> {
    await this.dispatcher.destroy();
  }
}
