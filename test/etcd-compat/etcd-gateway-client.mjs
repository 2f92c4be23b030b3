#!/usr/bin/env node
// A standalone client and conformance checker for etcd's v3 JSON gateway (grpc-gateway), written
// only from etcd's documented shapes, with nothing of raftplane in it: plain JavaScript, Node's
// built-ins only. It runs one scenario against a cluster and exits 0 only if every check passes.
//
//   node etcd-gateway-client.mjs [--timeout-ms 10000] URL [URL ...]
//   node etcd-gateway-client.mjs --endpoints http://127.0.0.1:2379,http://127.0.0.1:22379
//
// Exit status: 0 every check passed, 1 a check failed, 2 bad usage.
//
// Where each expectation comes from (cited on every check as [tag]):
//   [doc]      etcd.io "Why gRPC gateway" (Documentation/dev-guide/api_grpc_gateway.md): the curl
//              examples of put, range, range_end, watch and txn, with their responses.
//   [proto]    api/etcdserverpb/rpc.proto and api/mvccpb/kv.proto: the messages, field names and
//              the comments that define their meaning (count, more, prev_kv, compact_revision, ...).
//   [swagger]  Documentation/dev-guide/apispec/swagger/rpc.swagger.json: int64/uint64 fields are
//              `"type": "string"`, bytes are `"format": "byte"`, enums are their names, streaming
//              calls answer `{"result": ...}` or `{"error": ...}` per message ("Stream result of ...").
//   [json]     The proto3 JSON mapping the gateway uses (developers.google.com/protocol-buffers/docs/
//              proto3#json): 64-bit integers as decimal strings, bytes as standard padded base64,
//              fields with default values omitted, parsers accept lowerCamel or original field names,
//              enum names or numbers, and integers as numbers or strings.
//   [rpctypes] etcd's error catalogue (api/v3rpc/rpctypes/error.go): the gRPC code and message of
//              each server error ("etcdserver: mvcc: required revision has been compacted", ...).
//   [gateway]  How the gateway turns a gRPC error into HTTP: the body {"error", "code", "message"}
//              (error == message, code the gRPC status code as a JSON number) and the HTTP status of
//              that code (InvalidArgument/OutOfRange 400, NotFound 404); confirmed on etcd 3.4.23.
//
// Robust to what may differ between two servers (ids, exact revisions, TTL rounding, other keys in
// the store); strict on shapes: unknown fields, a 64-bit number sent as a JSON number, non-canonical
// base64 or a default value that is present instead of omitted all fail. It expects to be the only
// writer while it runs (it checks that some calls write no revision), and it compacts the store.

import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

// ---------------------------------------------------------------------------------------------
// Message shapes, transcribed from rpc.proto / kv.proto with the JSON types of the swagger.

const ResponseHeader = { cluster_id: 'uint64', member_id: 'uint64', revision: 'int64', raft_term: 'uint64' };
const KeyValue = { key: 'bytes', create_revision: 'int64', mod_revision: 'int64', version: 'int64', value: 'bytes', lease: 'int64' };
const RangeResponse = { header: ResponseHeader, kvs: [KeyValue], more: 'bool', count: 'int64' };
const PutResponse = { header: ResponseHeader, prev_kv: KeyValue };
const DeleteRangeResponse = { header: ResponseHeader, deleted: 'int64', prev_kvs: [KeyValue] };
const ResponseOp = { $oneof: { response_range: RangeResponse, response_put: PutResponse, response_delete_range: DeleteRangeResponse } };
const TxnResponse = { header: ResponseHeader, succeeded: 'bool', responses: [ResponseOp] };
ResponseOp.$oneof.response_txn = TxnResponse;
const CompactionResponse = { header: ResponseHeader };
const LeaseGrantResponse = { header: ResponseHeader, ID: 'int64', TTL: 'int64', error: 'string' };
const LeaseRevokeResponse = { header: ResponseHeader };
const LeaseKeepAliveResponse = { header: ResponseHeader, ID: 'int64', TTL: 'int64' };
const LeaseTimeToLiveResponse = { header: ResponseHeader, ID: 'int64', TTL: 'int64', grantedTTL: 'int64', keys: ['bytes'] };
const LeaseLeasesResponse = { header: ResponseHeader, leases: [{ ID: 'int64' }] };
const Event = { type: { $enum: ['PUT', 'DELETE'] }, kv: KeyValue, prev_kv: KeyValue };
const WatchResponse = {
  header: ResponseHeader,
  watch_id: 'int64',
  created: 'bool',
  canceled: 'bool',
  compact_revision: 'int64',
  cancel_reason: 'string',
  fragment: 'bool',
  events: [Event],
};
const StatusResponse = {
  header: ResponseHeader,
  version: 'string',
  dbSize: 'int64',
  leader: 'uint64',
  raftIndex: 'uint64',
  raftTerm: 'uint64',
  raftAppliedIndex: 'uint64',
  errors: ['string'],
  dbSizeInUse: 'int64',
  isLearner: 'bool',
  // Added in etcd 3.6; documented in rpc.proto, so allowed.
  storageVersion: 'string',
  dbSizeQuota: 'int64',
  downgradeInfo: { enabled: 'bool', targetVersion: 'string' },
};
const Member = { ID: 'uint64', name: 'string', peerURLs: ['string'], clientURLs: ['string'], isLearner: 'bool' };
const MemberListResponse = { header: ResponseHeader, members: [Member] };
const ProtobufAny = { type_url: 'string', value: 'bytes' };
/** [gateway] The body of a failed unary call. */
const ErrorBody = { error: 'string', code: 'int32', message: 'string', details: [ProtobufAny] };
/** [swagger] The error member of a stream message. */
const StreamError = { grpc_code: 'int32', http_code: 'int32', message: 'string', http_status: 'string', details: [ProtobufAny] };

const DECIMAL_INT64 = /^-?(0|[1-9][0-9]{0,18})$/;
const DECIMAL_UINT64 = /^(0|[1-9][0-9]{0,19})$/;
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Every way `value` departs from `schema`: unknown fields, wrong JSON types, 64-bit numbers that are
 * not decimal strings [json][swagger], non-canonical base64 [json], and default values that are
 * present although the gateway omits them [json] (etcd's gateway marshals with defaults omitted).
 */
function shapeProblems(value, schema, path) {
  const problems = [];
  const walk = (v, s, p) => {
    if (Array.isArray(s)) {
      if (!Array.isArray(v)) return problems.push(`${p}: expected an array, got ${describe(v)}`);
      if (v.length === 0) problems.push(`${p}: an empty repeated field is present (the gateway omits it)`);
      v.forEach((item, i) => walk(item, s[0], `${p}[${i}]`));
      return;
    }
    if (typeof s === 'string') return scalar(v, s, p);
    if (s.$enum !== undefined) {
      if (typeof v !== 'string' || !s.$enum.includes(v)) return problems.push(`${p}: expected one of ${s.$enum.join('|')}, got ${describe(v)}`);
      if (v === s.$enum[0]) problems.push(`${p}: the default enum value ${v} is present (the gateway omits it)`);
      return;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return problems.push(`${p}: expected an object, got ${describe(v)}`);
    if (s.$oneof !== undefined) {
      const keys = Object.keys(v);
      if (keys.length !== 1 || !(keys[0] in s.$oneof)) return problems.push(`${p}: expected exactly one of ${Object.keys(s.$oneof).join('|')}, got keys ${keys.join(',') || '(none)'}`);
      return walk(v[keys[0]], s.$oneof[keys[0]], `${p}.${keys[0]}`);
    }
    for (const [k, item] of Object.entries(v)) {
      if (!(k in s)) problems.push(`${p}.${k}: not a field of this message`);
      else walk(item, s[k], `${p}.${k}`);
    }
  };
  const scalar = (v, type, p) => {
    switch (type) {
      case 'int64':
      case 'uint64':
        if (typeof v !== 'string') return problems.push(`${p}: a 64-bit integer must be a decimal string, got ${describe(v)}`);
        if (!(type === 'int64' ? DECIMAL_INT64 : DECIMAL_UINT64).test(v)) return problems.push(`${p}: not a decimal ${type}: ${JSON.stringify(v)}`);
        if (v === '0') problems.push(`${p}: zero is present (the gateway omits it)`);
        return;
      case 'int32':
        if (!Number.isInteger(v)) return problems.push(`${p}: expected a JSON integer, got ${describe(v)}`);
        return;
      case 'bool':
        if (typeof v !== 'boolean') return problems.push(`${p}: expected a boolean, got ${describe(v)}`);
        if (v === false) problems.push(`${p}: false is present (the gateway omits it)`);
        return;
      case 'string':
        if (typeof v !== 'string') return problems.push(`${p}: expected a string, got ${describe(v)}`);
        if (v === '') problems.push(`${p}: an empty string is present (the gateway omits it)`);
        return;
      case 'bytes':
        if (typeof v !== 'string' || !CANONICAL_BASE64.test(v)) return problems.push(`${p}: expected standard padded base64, got ${describe(v)}`);
        if (v === '') problems.push(`${p}: empty bytes are present (the gateway omits them)`);
        return;
      default:
        throw new Error(`schema error: unknown type ${type} at ${p}`);
    }
  };
  walk(value, schema, path);
  return problems;
}

function describe(v) {
  const text = JSON.stringify(v);
  return `${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v} ${text === undefined ? '' : text.length > 80 ? `${text.slice(0, 80)}...` : text}`;
}

// ---------------------------------------------------------------------------------------------
// Checks and their report.

class CheckFailed extends Error {}

function fail(message) {
  throw new CheckFailed(message);
}
function expect(condition, message) {
  if (!condition) fail(message);
}
function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
}
function shape(value, schema, what) {
  const problems = shapeProblems(value, schema, what);
  if (problems.length > 0) fail(`shape of ${what}:\n       ${problems.join('\n       ')}`);
}

const b64 = (data) => Buffer.from(data).toString('base64');
const unb64 = (text) => Buffer.from(text ?? '', 'base64');
const big = (text) => BigInt(text ?? '0');
/** The smallest key greater than every key with this prefix ([proto] RangeRequest.range_end). */
function prefixEnd(prefix) {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i] += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

const report = { passed: 0, failed: 0 };
let checkNumber = 0;

/** Runs one check; a failure is printed and ends the enclosing section (later checks build on it). */
async function check(name, sources, fn) {
  checkNumber += 1;
  const label = `${String(checkNumber).padStart(3)} ${name}  [${sources}]`;
  try {
    const note = await fn();
    report.passed += 1;
    console.log(`ok   ${label}${typeof note === 'string' && note !== '' ? `\n       ${note}` : ''}`);
  } catch (error) {
    report.failed += 1;
    const text = error instanceof CheckFailed ? error.message : `${error?.name ?? 'Error'}: ${error?.message ?? String(error)}${error?.cause ? ` (cause: ${error.cause.message ?? error.cause})` : ''}`;
    console.log(`FAIL ${label}\n       ${text.split('\n').join('\n       ')}`);
    throw new SectionAborted();
  }
}
class SectionAborted extends Error {}

async function section(title, fn) {
  console.log(`\n# ${title}`);
  try {
    await fn();
  } catch (error) {
    if (!(error instanceof SectionAborted)) {
      report.failed += 1;
      console.log(`FAIL     ${title}: ${error?.stack ?? error}`);
    }
    console.log('       (rest of this section not run)');
  }
}

// ---------------------------------------------------------------------------------------------
// The client: POST JSON, read JSON; streams read as newline-delimited messages.

class GatewayError extends Error {
  constructor(status, body, text) {
    super(`HTTP ${status}: ${text.slice(0, 300)}`);
    this.status = status;
    this.body = body;
  }
}

class Endpoint {
  constructor(url, timeoutMs) {
    this.url = url.replace(/\/+$/, '');
    this.timeoutMs = timeoutMs;
    /** Learnt from /v3/maintenance/status. */
    this.memberId = null;
  }

  /** POSTs `body` (an object, or raw text) and answers {status, contentType, text, json}. */
  async raw(path, body) {
    const res = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json };
  }

  /** A unary call that must succeed: HTTP 200, a JSON object of the given shape. */
  async call(path, body, schema) {
    const r = await this.raw(path, body);
    if (r.status !== 200) throw new GatewayError(r.status, r.json, r.text);
    expect(r.contentType.startsWith('application/json'), `${path}: Content-Type ${JSON.stringify(r.contentType)}, expected application/json`);
    expect(r.json !== undefined, `${path}: the body is not JSON: ${r.text.slice(0, 200)}`);
    shape(r.json, schema, path);
    return r.json;
  }

  /** A unary call that must fail as the gateway fails: HTTP `status`, body {error, code, message} [gateway]. */
  async callFailing(path, body, { status, code, message }) {
    const r = await this.raw(path, body);
    eq(r.status, status, `${path} ${typeof body === 'string' ? body : JSON.stringify(body)}: HTTP status (body ${r.text.slice(0, 200)})`);
    expect(r.json !== undefined, `${path}: the error body is not JSON: ${r.text.slice(0, 200)}`);
    shape(r.json, ErrorBody, `${path} error body`);
    expect(typeof r.json.error === 'string' && typeof r.json.message === 'string', `${path}: the error body needs both "error" and "message"`);
    eq(r.json.error, r.json.message, `${path}: "error" repeats "message"`);
    eq(r.json.code, code, `${path}: gRPC code in the error body`);
    if (message !== undefined) eq(r.json.message, message, `${path}: error message`);
    return r.json;
  }

  /** Opens a streaming call: POST with the given newline-separated requests as the body [swagger: streaming inputs]. */
  async stream(path, requests) {
    const controller = new AbortController();
    // The stream stays open as long as it likes, but its response headers must come in time.
    const timer = setTimeout(() => controller.abort(new Error(`${path}: no response headers within ${this.timeoutMs} ms`)), this.timeoutMs);
    try {
      const res = await fetch(`${this.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: requests.map((r) => JSON.stringify(r)).join('\n'),
        signal: controller.signal,
      });
      return new MessageStream(res, controller, path);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * One streaming response read as etcd's gateway writes it: each message is one JSON object on one
 * line, ended by "\n", of the form {"result": ...} or {"error": ...} [swagger "Stream result of ..."].
 */
class MessageStream {
  constructor(res, controller, path) {
    this.res = res;
    this.controller = controller;
    this.path = path;
    this.reader = res.body.getReader();
    this.decoder = new TextDecoder();
    this.buffer = '';
    this.pending = null;
    this.ended = false;
  }

  /** The next message's `result` (after checking its framing and shape), or null when the stream ended. */
  async next(schema, timeoutMs) {
    const line = await this.nextLine(timeoutMs);
    if (line === null) return null;
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      fail(`${this.path}: a stream line is not one JSON object: ${line.slice(0, 200)}`);
    }
    expect(message !== null && typeof message === 'object' && !Array.isArray(message), `${this.path}: a stream message is not an object: ${line.slice(0, 200)}`);
    const keys = Object.keys(message);
    if (keys.length === 1 && keys[0] === 'error') {
      shape(message.error, StreamError, `${this.path} stream error`);
      fail(`${this.path}: the stream answered an error: ${line.slice(0, 300)}`);
    }
    eq(keys, ['result'], `${this.path}: the keys of a stream message`);
    shape(message.result, schema, `${this.path} result`);
    return message.result;
  }

  async nextLine(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const newline = this.buffer.indexOf('\n');
      if (newline >= 0) {
        const line = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 1);
        expect(!line.endsWith('\r'), `${this.path}: stream lines end with "\\n", not "\\r\\n"`);
        return line;
      }
      if (this.ended) {
        expect(this.buffer.trim() === '', `${this.path}: the stream ended inside a message (no closing "\\n"): ${this.buffer.slice(0, 200)}`);
        return null;
      }
      const left = deadline - Date.now();
      if (left <= 0) fail(`${this.path}: no complete message within ${timeoutMs} ms`);
      this.pending ??= this.reader.read();
      let timer;
      const outcome = await Promise.race([this.pending, new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), left)))]);
      clearTimeout(timer);
      if (outcome === 'timeout') fail(`${this.path}: no complete message within ${timeoutMs} ms (buffered: ${JSON.stringify(this.buffer.slice(0, 200))})`);
      this.pending = null;
      if (outcome.done) this.ended = true;
      else this.buffer += this.decoder.decode(outcome.value, { stream: true });
    }
  }

  /** Waits for the server to end the stream; fails if another message arrives first. */
  async expectEnd(timeoutMs) {
    const line = await this.nextLine(timeoutMs);
    if (line !== null) fail(`${this.path}: expected the stream to end, got another message: ${line.slice(0, 200)}`);
  }

  close() {
    this.controller.abort();
    this.pending?.catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// The scenario.

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      endpoints: { type: 'string' },
      'timeout-ms': { type: 'string', default: '10000' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const urls = [...(values.endpoints?.split(',') ?? []), ...positionals].map((u) => u.trim()).filter((u) => u !== '');
  const timeoutMs = Number(values['timeout-ms']);
  if (values.help || urls.length === 0 || !Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    console.error('usage: node etcd-gateway-client.mjs [--timeout-ms 10000] [--endpoints URL,URL,...] [URL ...]');
    console.error('  Runs a conformance scenario against etcd v3 JSON gateway endpoints (e.g. http://127.0.0.1:2379).');
    return 2;
  }
  for (const u of urls) {
    if (!/^https?:\/\/[^/]+\/?$/.test(u)) {
      console.error(`not a base URL: ${JSON.stringify(u)} (expected http://host:port)`);
      return 2;
    }
  }
  const endpoints = urls.map((u) => new Endpoint(u, timeoutMs));
  const first = endpoints[0];
  const last = endpoints[endpoints.length - 1];
  const prefix = `/etcd-gateway-client/${randomBytes(6).toString('hex')}/`;
  const key = (name) => Buffer.from(prefix + name);
  console.log(`etcd v3 JSON gateway checks against ${endpoints.map((e) => e.url).join(', ')}; keys under ${prefix}`);

  /** What the scenario has learnt: the cluster id, the members, the highest revision seen. */
  const cluster = { id: null, memberIds: new Set(), revision: 0n };

  /**
   * [proto ResponseHeader] Every response carries the header: cluster_id and member_id of who sent
   * it, raft_term; revision on responses that touch the key-value store (unset, so omitted, on the
   * calls that do not). Revisions seen never go back: a linearizable read sees every earlier write.
   */
  const header = (h, what, { revision = true, monotonic = true } = {}) => {
    expect(h !== undefined, `${what}: no header`);
    expect(h.cluster_id !== undefined && h.member_id !== undefined && h.raft_term !== undefined, `${what}: header lacks cluster_id, member_id or raft_term: ${JSON.stringify(h)}`);
    if (cluster.id !== null) eq(h.cluster_id, cluster.id, `${what}: header.cluster_id`);
    if (cluster.memberIds.size > 0) expect(cluster.memberIds.has(h.member_id), `${what}: header.member_id ${h.member_id} is not a member (${[...cluster.memberIds].join(', ')})`);
    if (revision) {
      expect(h.revision !== undefined, `${what}: header.revision is missing`);
      if (monotonic) {
        expect(big(h.revision) >= cluster.revision, `${what}: header.revision ${h.revision} is below revision ${cluster.revision} already seen`);
        cluster.revision = big(h.revision);
      }
    } else {
      expect(h.revision === undefined, `${what}: header.revision is present (${h.revision}) on a call that does not touch the key-value store`);
    }
  };
  const put = async (ep, name, value, extra = {}) => {
    const r = await ep.call('/v3/kv/put', { key: b64(key(name)), value: b64(value), ...extra }, PutResponse);
    header(r.header, `put ${name}`);
    return r;
  };
  const range = async (ep, request, what) => {
    const r = await ep.call('/v3/kv/range', request, RangeResponse);
    header(r.header, what);
    return r;
  };
  const kvOf = (name, value, rev, extra = {}) => ({ key: b64(key(name)), create_revision: String(rev.create), mod_revision: String(rev.mod), version: String(rev.version), ...(value === '' ? {} : { value: b64(value) }), ...extra });

  // -- cluster identity ------------------------------------------------------------------------
  await section('cluster: maintenance/status and cluster/member/list', async () => {
    let statuses = [];
    await check('status answers on every endpoint, all agreeing on one leader', 'proto StatusResponse, swagger', async () => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        statuses = [];
        for (const ep of endpoints) statuses.push(await ep.call('/v3/maintenance/status', {}, StatusResponse));
        const leaders = new Set(statuses.map((s) => s.leader));
        if ((leaders.size === 1 && !leaders.has(undefined)) || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      statuses.forEach((s, i) => {
        const what = `status of ${endpoints[i].url}`;
        expect(s.header?.cluster_id !== undefined && s.header.member_id !== undefined && s.header.raft_term !== undefined && s.header.revision !== undefined, `${what}: the header needs cluster_id, member_id, revision and raft_term: ${JSON.stringify(s.header)}`);
        expect(s.leader !== undefined, `${what}: no leader`);
        expect(s.raftIndex !== undefined && s.raftTerm !== undefined, `${what}: raftIndex and raftTerm are required`);
        eq(s.raftTerm, s.header.raft_term, `${what}: raftTerm equals header.raft_term`);
        eq(s.header.cluster_id, statuses[0].header.cluster_id, `${what}: cluster_id is the same on every endpoint`);
        eq(s.leader, statuses[0].leader, `${what}: leader agrees with ${endpoints[0].url}`);
        endpoints[i].memberId = s.header.member_id;
      });
      expect(new Set(statuses.map((s) => s.header.member_id)).size === endpoints.length, `each endpoint must be a different member: ${statuses.map((s) => s.header.member_id).join(', ')}`);
      cluster.id = statuses[0].header.cluster_id;
      for (const s of statuses) if (big(s.header.revision) > cluster.revision) cluster.revision = big(s.header.revision);
      const leaderAt = statuses.findIndex((s) => s.leader === s.header.member_id);
      return `cluster ${cluster.id}, leader ${statuses[0].leader}${leaderAt >= 0 ? ` (${endpoints[leaderAt].url})` : ' (not among these endpoints)'}, version ${statuses[0].version ?? '(none)'}`;
    });
    await check('member/list names every endpoint\'s member with its client URL; its header has no revision', 'proto MemberListResponse, Member, ResponseHeader', async () => {
      for (const ep of endpoints) {
        const r = await ep.call('/v3/cluster/member/list', {}, MemberListResponse);
        header(r.header, `member/list of ${ep.url}`, { revision: false });
        eq(r.header.member_id, ep.memberId, `member/list of ${ep.url}: header.member_id is the member that status named`);
        expect(Array.isArray(r.members) && r.members.length >= endpoints.length, `member/list of ${ep.url}: expected at least ${endpoints.length} members`);
        const ids = r.members.map((m) => m.ID);
        expect(new Set(ids).size === ids.length, `member/list: member IDs repeat: ${ids.join(', ')}`);
        for (const m of r.members) {
          expect(m.ID !== undefined && Array.isArray(m.peerURLs), `member/list: a member needs ID and peerURLs: ${JSON.stringify(m)}`);
          cluster.memberIds.add(m.ID);
        }
        for (const other of endpoints) {
          const m = r.members.find((x) => x.ID === other.memberId);
          expect(m !== undefined, `member/list of ${ep.url}: no member ${other.memberId} (${other.url})`);
          expect((m.clientURLs ?? []).some((u) => u.replace(/\/+$/, '') === other.url), `member/list: member ${m.ID} does not list ${other.url} in clientURLs ${JSON.stringify(m.clientURLs)}`);
        }
      }
      expect(cluster.memberIds.has(statuses[0].leader), `the leader ${statuses[0].leader} is not a listed member`);
      return `${cluster.memberIds.size} members`;
    });
  });

  // -- put and get -----------------------------------------------------------------------------
  // Every byte value, so that the base64 text holds '+', '/' and padding.
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
  const rev = {};
  await section('put and range: base64 bytes, 64-bit numbers as strings, headers', async () => {
    await check('put answers with the header only', 'doc put example, proto PutResponse', async () => {
      const r = await put(first, 'a', binary);
      eq(Object.keys(r), ['header'], 'keys of the put response');
      rev.a1 = big(r.header.revision);
      return `revision ${r.header.revision}`;
    });
    await check('range of one key returns its kv with count "1"', 'doc range example, kv.proto KeyValue, json', async () => {
      const r = await range(first, { key: b64(key('a')) }, 'range a');
      eq(r.kvs, [kvOf('a', binary, { create: rev.a1, mod: rev.a1, version: 1 })], 'kvs');
      eq(r.count, '1', 'count');
      expect(r.more === undefined, 'more must be omitted when false');
      eq(unb64(r.kvs[0].value).equals(binary), true, 'the value decodes to the bytes put');
    });
    await check('range of a missing key answers the header alone (no kvs, count omitted at zero)', 'proto RangeResponse, json defaults omitted', async () => {
      const r = await range(first, { key: b64(key('missing')) }, 'range missing');
      eq(Object.keys(r), ['header'], 'keys of the response');
    });
    await check('put with prev_kv returns the previous kv; an empty value is omitted from kvs', 'proto PutRequest.prev_kv, json', async () => {
      const r = await put(first, 'a', '', { prev_kv: true });
      eq(r.prev_kv, kvOf('a', binary, { create: rev.a1, mod: rev.a1, version: 1 }), 'prev_kv');
      rev.a2 = big(r.header.revision);
      expect(rev.a2 > rev.a1, `the second put's revision ${rev.a2} must be above ${rev.a1}`);
      const g = await range(first, { key: b64(key('a')) }, 'range a');
      eq(g.kvs, [kvOf('a', '', { create: rev.a1, mod: rev.a2, version: 2 })], 'kvs after the second put');
    });
    await check('a linearizable range on every other endpoint sees the write', 'proto RangeRequest.serializable (linearizable by default)', async () => {
      for (const ep of endpoints.slice(1)) {
        const g = await range(ep, { key: b64(key('a')) }, `range a on ${ep.url}`);
        eq(g.kvs?.[0]?.mod_revision, String(rev.a2), `mod_revision seen through ${ep.url}`);
      }
      return endpoints.length > 1 ? `${endpoints.length - 1} other endpoint(s)` : 'one endpoint only';
    });
    await check('a serializable range on every endpoint answers, and catches up with the write', 'proto RangeRequest.serializable (member-local, possibly stale)', async () => {
      for (const ep of endpoints) {
        const deadline = Date.now() + 5_000;
        for (;;) {
          const g = await ep.call('/v3/kv/range', { key: b64(key('a')), serializable: true }, RangeResponse);
          header(g.header, `serializable range on ${ep.url}`, { monotonic: false });
          if (g.kvs?.[0]?.mod_revision === String(rev.a2)) break;
          expect(Date.now() < deadline, `${ep.url}: a serializable read still shows ${JSON.stringify(g.kvs)} 5 s after the write at revision ${rev.a2}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    });
  });

  // -- range options ---------------------------------------------------------------------------
  await section('range: range_end, limit, count, more, sort, keys_only, count_only', async () => {
    const r = {};
    const rk = (n) => b64(key(`r/${n}`));
    const rPrefix = { key: b64(key('r/')), range_end: b64(prefixEnd(key('r/'))) };
    await check('three puts under one prefix', 'doc put example', async () => {
      r.a = big((await put(first, 'r/a', '3')).header.revision);
      r.b = big((await put(first, 'r/b', '1')).header.revision);
      r.c = big((await put(first, 'r/c', '2')).header.revision);
    });
    await check('range_end = prefix + 1 returns every key of the prefix in key order', 'doc "get all keys prefixed", proto RangeRequest.range_end', async () => {
      const g = await range(first, rPrefix, 'prefix range');
      eq(g.kvs?.map((kv) => kv.key), [rk('a'), rk('b'), rk('c')], 'keys');
      eq(g.kvs?.map((kv) => unb64(kv.value).toString()), ['3', '1', '2'], 'values');
      eq(g.count, '3', 'count');
      expect(g.more === undefined, 'more must be omitted');
    });
    await check('limit "2" returns two kvs, more: true, count of the whole range', 'proto RangeRequest.limit, RangeResponse.more/count', async () => {
      const g = await range(first, { ...rPrefix, limit: '2' }, 'limited range');
      eq(g.kvs?.map((kv) => kv.key), [rk('a'), rk('b')], 'keys');
      eq(g.more, true, 'more');
      eq(g.count, '3', 'count');
    });
    await check('limit as a JSON number is accepted too', 'json (parsers accept numbers or strings)', async () => {
      const g = await range(first, { ...rPrefix, limit: 1 }, 'limit 1');
      eq(g.kvs?.length, 1, 'kvs');
      eq(g.more, true, 'more');
    });
    await check('sort_order DESCEND by KEY', 'proto RangeRequest.sort_order/sort_target, swagger enum names', async () => {
      const g = await range(first, { ...rPrefix, sort_order: 'DESCEND', sort_target: 'KEY' }, 'sorted range');
      eq(g.kvs?.map((kv) => kv.key), [rk('c'), rk('b'), rk('a')], 'keys');
    });
    await check('sort_order ASCEND by VALUE', 'proto RangeRequest.SortTarget', async () => {
      const g = await range(first, { ...rPrefix, sort_order: 'ASCEND', sort_target: 'VALUE' }, 'sorted range');
      eq(g.kvs?.map((kv) => kv.key), [rk('b'), rk('c'), rk('a')], 'keys');
    });
    await check('sort_order DESCEND by MOD given as enum numbers (2, 3)', 'json (enum numbers accepted)', async () => {
      const g = await range(first, { ...rPrefix, sort_order: 2, sort_target: 3 }, 'sorted range');
      eq(g.kvs?.map((kv) => kv.mod_revision), [String(r.c), String(r.b), String(r.a)], 'mod revisions');
    });
    await check('keys_only returns kvs without values', 'proto RangeRequest.keys_only', async () => {
      const g = await range(first, { ...rPrefix, keys_only: true }, 'keys_only range');
      eq(g.kvs, [kvOf('r/a', '', { create: r.a, mod: r.a, version: 1 }), kvOf('r/b', '', { create: r.b, mod: r.b, version: 1 }), kvOf('r/c', '', { create: r.c, mod: r.c, version: 1 })], 'kvs');
      eq(g.count, '3', 'count');
    });
    await check('count_only returns the count and no kvs', 'proto RangeRequest.count_only', async () => {
      const g = await range(first, { ...rPrefix, count_only: true }, 'count_only range');
      eq(Object.keys(g).sort(), ['count', 'header'], 'keys of the response');
      eq(g.count, '3', 'count');
    });
    await check('range_end "\\0" ranges over every key >= key', 'proto RangeRequest.range_end', async () => {
      const g = await range(first, { key: b64(key('r/')), range_end: b64(Buffer.from([0])), count_only: true }, 'open range');
      expect(big(g.count) >= 3n, `count ${g.count} must be at least 3`);
    });
  });

  // -- history ---------------------------------------------------------------------------------
  await section('reads at a past revision', async () => {
    const h = {};
    await check('two puts of one key', 'doc put example', async () => {
      h.one = big((await put(first, 'h', 'v1')).header.revision);
      h.two = big((await put(first, 'h', 'v2')).header.revision);
    });
    await check('range at the first revision returns the first value; the header carries the current revision', 'proto RangeRequest.revision, ResponseHeader.revision', async () => {
      const g = await range(first, { key: b64(key('h')), revision: String(h.one) }, 'range at a past revision');
      eq(g.kvs, [kvOf('h', 'v1', { create: h.one, mod: h.one, version: 1 })], 'kvs at the past revision');
      expect(big(g.header.revision) >= h.two, `header.revision ${g.header.revision} is the store's revision, at least ${h.two}`);
    });
    await check('range at the second revision returns the second value', 'proto RangeRequest.revision', async () => {
      const g = await range(first, { key: b64(key('h')), revision: String(h.two) }, 'range at the latest revision');
      eq(g.kvs, [kvOf('h', 'v2', { create: h.one, mod: h.two, version: 2 })], 'kvs');
    });
    await check('range at a future revision fails with OutOfRange (code 11, HTTP 400)', 'rpctypes ErrGRPCFutureRev, gateway', async () => {
      await first.callFailing('/v3/kv/range', { key: b64(key('h')), revision: String(cluster.revision + 1000n) }, { status: 400, code: 11, message: 'etcdserver: mvcc: required revision is a future revision' });
    });
  });

  // -- delete ----------------------------------------------------------------------------------
  await section('delete range with prev_kv', async () => {
    const d = {};
    await check('three puts', 'doc put example', async () => {
      for (const n of ['1', '2', '3']) d[n] = big((await put(first, `d/${n}`, `v${n}`)).header.revision);
    });
    await check('deleterange [d/1, d/3) with prev_kv deletes two keys in one revision and returns them', 'proto DeleteRangeRequest/Response', async () => {
      const r = await first.call('/v3/kv/deleterange', { key: b64(key('d/1')), range_end: b64(key('d/3')), prev_kv: true }, DeleteRangeResponse);
      header(r.header, 'deleterange');
      eq(r.deleted, '2', 'deleted');
      eq(r.prev_kvs, [kvOf('d/1', 'v1', { create: d['1'], mod: d['1'], version: 1 }), kvOf('d/2', 'v2', { create: d['2'], mod: d['2'], version: 1 })], 'prev_kvs');
      const g = await range(first, { key: b64(key('d/')), range_end: b64(prefixEnd(key('d/'))) }, 'range d/');
      eq(g.kvs?.map((kv) => kv.key), [b64(key('d/3'))], 'keys left');
    });
    await check('deleting a missing key answers the header alone and writes no revision', 'proto DeleteRangeResponse.deleted, json defaults omitted', async () => {
      const before = cluster.revision;
      const r = await first.call('/v3/kv/deleterange', { key: b64(key('d/missing')) }, DeleteRangeResponse);
      header(r.header, 'deleterange of nothing');
      eq(Object.keys(r), ['header'], 'keys of the response');
      eq(r.header.revision, String(before), 'header.revision (unchanged)');
    });
  });

  // -- txn -------------------------------------------------------------------------------------
  await section('txn: compare on VALUE, VERSION, MOD, CREATE; success and failure branches', async () => {
    const t = {};
    const tk = b64(key('t'));
    await check('put the key compared on', 'doc put example', async () => {
      t.one = big((await put(first, 't', '1')).header.revision);
    });
    await check('VALUE EQUAL holds: the success branch puts (prev_kv) and reads, all at one new revision', 'proto Compare, TxnRequest/Response, ResponseOp', async () => {
      const r = await first.call('/v3/kv/txn', {
        compare: [{ target: 'VALUE', result: 'EQUAL', key: tk, value: b64('1') }],
        success: [{ request_put: { key: tk, value: b64('2'), prev_kv: true } }, { request_range: { key: tk } }],
        failure: [{ request_range: { key: tk } }],
      }, TxnResponse);
      header(r.header, 'txn');
      eq(r.succeeded, true, 'succeeded');
      t.two = big(r.header.revision);
      expect(t.two > t.one, `the txn's revision ${t.two} must be above ${t.one}`);
      eq(r.responses, [
        { response_put: { header: { revision: String(t.two) }, prev_kv: kvOf('t', '1', { create: t.one, mod: t.one, version: 1 }) } },
        { response_range: { header: { revision: String(t.two) }, kvs: [kvOf('t', '2', { create: t.one, mod: t.two, version: 2 })], count: '1' } },
      ], 'responses (inner headers carry the revision only, as in the documented example)');
    });
    await check('VERSION EQUAL "1" fails: the failure branch runs, succeeded is omitted, no revision is written', 'doc txn VERSION example, proto TxnResponse.succeeded', async () => {
      const r = await first.call('/v3/kv/txn', {
        compare: [{ target: 'VERSION', result: 'EQUAL', key: tk, version: '1' }],
        success: [{ request_put: { key: tk, value: b64('never') } }],
        failure: [{ request_range: { key: tk } }, { request_delete_range: { key: b64(key('t-missing')) } }],
      }, TxnResponse);
      header(r.header, 'txn');
      expect(r.succeeded === undefined, 'succeeded must be omitted when false');
      eq(r.header.revision, String(t.two), 'header.revision (a failed compare with reads writes nothing)');
      eq(r.responses, [
        { response_range: { header: { revision: String(t.two) }, kvs: [kvOf('t', '2', { create: t.one, mod: t.two, version: 2 })], count: '1' } },
        { response_delete_range: { header: { revision: String(t.two) } } },
      ], 'responses');
    });
    await check('MOD LESS and CREATE EQUAL both hold: delete with prev_kv', 'proto Compare.mod_revision/create_revision', async () => {
      const r = await first.call('/v3/kv/txn', {
        compare: [
          { target: 'MOD', result: 'LESS', key: tk, mod_revision: String(t.two + 1n) },
          { target: 'CREATE', result: 'EQUAL', key: tk, create_revision: String(t.one) },
        ],
        success: [{ request_delete_range: { key: tk, prev_kv: true } }],
      }, TxnResponse);
      header(r.header, 'txn');
      eq(r.succeeded, true, 'succeeded');
      t.three = big(r.header.revision);
      eq(r.responses, [{ response_delete_range: { header: { revision: String(t.three) }, deleted: '1', prev_kvs: [kvOf('t', '2', { create: t.one, mod: t.two, version: 2 })] } }], 'responses');
    });
    await check('create-if-absent (CREATE EQUAL "0") succeeds once, then takes the failure branch', 'proto Compare.create_revision', async () => {
      const body = {
        compare: [{ target: 'CREATE', result: 'EQUAL', key: tk, create_revision: '0' }],
        success: [{ request_put: { key: tk, value: b64('first') } }],
        failure: [{ request_range: { key: tk, keys_only: true } }],
      };
      const once = await first.call('/v3/kv/txn', body, TxnResponse);
      header(once.header, 'txn');
      eq(once.succeeded, true, 'first succeeded');
      t.four = big(once.header.revision);
      const twice = await first.call('/v3/kv/txn', body, TxnResponse);
      header(twice.header, 'txn');
      expect(twice.succeeded === undefined, 'the second must fail (succeeded omitted)');
      eq(twice.responses?.[0]?.response_range?.kvs?.[0]?.create_revision, String(t.four), 'create_revision of the key');
    });
    await check('the documented txn example with lowerCamel names (createRevision, requestPut)', 'doc txn CREATE example, json (lowerCamel accepted)', async () => {
      const r = await first.call('/v3/kv/txn', {
        compare: [{ target: 'CREATE', key: tk, createRevision: String(t.four) }],
        success: [{ requestPut: { key: tk, value: b64('camel') } }],
      }, TxnResponse);
      header(r.header, 'txn');
      eq(r.succeeded, true, 'succeeded');
      eq(r.responses, [{ response_put: { header: { revision: r.header.revision } } }], 'responses (snake_case names in the answer)');
    });
    await check('NOT_EQUAL on VALUE', 'proto Compare.CompareResult', async () => {
      const r = await first.call('/v3/kv/txn', { compare: [{ target: 'VALUE', result: 'NOT_EQUAL', key: tk, value: b64('camel') }], failure: [{ request_range: { key: tk, count_only: true } }] }, TxnResponse);
      header(r.header, 'txn');
      expect(r.succeeded === undefined, 'the value is "camel": NOT_EQUAL fails');
      eq(r.responses?.[0]?.response_range?.count, '1', 'count from the failure branch');
    });
    await check('two puts of one key in a txn fail with InvalidArgument and change nothing', 'rpctypes ErrGRPCDuplicateKey, gateway', async () => {
      const before = cluster.revision;
      await first.callFailing('/v3/kv/txn', { success: [{ request_put: { key: tk, value: b64('x') } }, { request_put: { key: tk, value: b64('y') } }] }, { status: 400, code: 3, message: 'etcdserver: duplicate key given in txn request' });
      const g = await range(first, { key: tk }, 'range t');
      eq(g.header.revision, String(before), 'revision unchanged');
      eq(unb64(g.kvs?.[0]?.value).toString(), 'camel', 'value unchanged');
    });
  });

  // -- leases ----------------------------------------------------------------------------------
  await section('leases: grant, put with lease, timetolive, keepalive, leases, revoke', async () => {
    // An id above 2^53: a client that turned it into a JS number would change it.
    const wantedId = String((1n << 60n) + BigInt(`0x${randomBytes(6).toString('hex')}`));
    let id;
    let other;
    await check('grant with a chosen 64-bit ID returns exactly that ID as a string, and the TTL', 'proto LeaseGrantRequest/Response, json int64 as string', async () => {
      const r = await first.call('/v3/lease/grant', { TTL: '60', ID: wantedId }, LeaseGrantResponse);
      header(r.header, 'lease grant');
      eq(r.ID, wantedId, 'ID');
      eq(r.TTL, '60', 'TTL');
      expect(r.error === undefined, `error must be absent, got ${r.error}`);
      id = r.ID;
    });
    await check('grant without an ID lets the server choose one', 'proto LeaseGrantRequest.ID', async () => {
      const r = await first.call('/v3/lease/grant', { TTL: 60 }, LeaseGrantResponse);
      header(r.header, 'lease grant');
      expect(r.ID !== undefined && r.ID !== id, `a new nonzero ID, got ${r.ID}`);
      eq(r.TTL, '60', 'TTL');
      other = r.ID;
    });
    await check('put with the lease; range shows kv.lease', 'proto PutRequest.lease, kv.proto KeyValue.lease', async () => {
      const p = await put(first, 'l', 'leased', { lease: id });
      const g = await range(first, { key: b64(key('l')) }, 'range l');
      const at = big(p.header.revision);
      eq(g.kvs, [kvOf('l', 'leased', { create: at, mod: at, version: 1 }, { lease: id })], 'kvs');
    });
    await check('timetolive with keys: TTL, grantedTTL and the attached key', 'proto LeaseTimeToLiveRequest/Response', async () => {
      const r = await first.call('/v3/lease/timetolive', { ID: id, keys: true }, LeaseTimeToLiveResponse);
      header(r.header, 'timetolive');
      eq(r.ID, id, 'ID');
      eq(r.grantedTTL, '60', 'grantedTTL');
      expect(big(r.TTL) > 0n && big(r.TTL) <= 60n, `TTL ${r.TTL} must be in (0, 60]`);
      eq(r.keys, [b64(key('l'))], 'keys');
    });
    await check('keepalive: one request in the body, one {"result": ...} line back, then the stream ends', 'proto LeaseKeepAliveResponse, swagger Stream result', async () => {
      const s = await first.stream('/v3/lease/keepalive', [{ ID: id }]);
      try {
        eq(s.res.status, 200, 'HTTP status');
        expect((s.res.headers.get('content-type') ?? '').startsWith('application/json'), `Content-Type ${s.res.headers.get('content-type')}`);
        const m = await s.next(LeaseKeepAliveResponse, timeoutMs);
        expect(m !== null, 'no keepalive response');
        header(m.header, 'keepalive');
        eq(m.ID, id, 'ID');
        eq(m.TTL, '60', 'TTL (renewed to the granted TTL)');
        await s.expectEnd(timeoutMs);
      } finally {
        s.close();
      }
    });
    await check('keepalive: two requests in one body, two result lines', 'swagger streaming inputs', async () => {
      const s = await first.stream('/v3/lease/keepalive', [{ ID: id }, { ID: other }]);
      try {
        const a = await s.next(LeaseKeepAliveResponse, timeoutMs);
        const b = await s.next(LeaseKeepAliveResponse, timeoutMs);
        eq([a?.ID, b?.ID], [id, other], 'IDs in order');
        await s.expectEnd(timeoutMs);
      } finally {
        s.close();
      }
    });
    await check('leases lists both leases, each as {"ID"}', 'proto LeaseLeasesResponse, LeaseStatus', async () => {
      const r = await first.call('/v3/lease/leases', {}, LeaseLeasesResponse);
      header(r.header, 'leases');
      const ids = (r.leases ?? []).map((l) => l.ID);
      expect(ids.includes(id) && ids.includes(other), `leases ${JSON.stringify(ids)} must include ${id} and ${other}`);
    });
    await check('revoke deletes the attached key', 'proto LeaseRevokeRequest ("all keys attached ... deleted")', async () => {
      const r = await first.call('/v3/lease/revoke', { ID: id }, LeaseRevokeResponse);
      header(r.header, 'revoke');
      const g = await range(first, { key: b64(key('l')) }, 'range l');
      eq(Object.keys(g), ['header'], 'the leased key is gone');
      const t = await first.call('/v3/lease/timetolive', { ID: id }, LeaseTimeToLiveResponse);
      header(t.header, 'timetolive');
      eq(t.TTL, '-1', 'TTL of a revoked lease ("Expired lease will return -1")');
    });
    await check('revoking it again fails with NotFound (code 5, HTTP 404); so does a put with it', 'rpctypes ErrGRPCLeaseNotFound, gateway', async () => {
      await first.callFailing('/v3/lease/revoke', { ID: id }, { status: 404, code: 5, message: 'etcdserver: requested lease not found' });
      await first.callFailing('/v3/kv/put', { key: b64(key('l')), value: b64('x'), lease: id }, { status: 404, code: 5, message: 'etcdserver: requested lease not found' });
      const r = await first.call('/v3/lease/revoke', { ID: other }, LeaseRevokeResponse);
      header(r.header, 'revoke');
    });
  });

  // -- watch -----------------------------------------------------------------------------------
  await section('watch: the streaming POST', async () => {
    const wk = b64(key('w'));
    let s;
    try {
      await check(`create answers {"result": {header, created: true}} (watch on ${last.url})`, 'doc watch example, proto WatchResponse.created', async () => {
        s = await last.stream('/v3/watch', [{ create_request: { key: wk, prev_kv: true } }]);
        eq(s.res.status, 200, 'HTTP status');
        expect((s.res.headers.get('content-type') ?? '').startsWith('application/json'), `Content-Type ${s.res.headers.get('content-type')}`);
        const m = await s.next(WatchResponse, timeoutMs);
        expect(m !== null, 'the stream ended');
        header(m.header, 'watch created');
        eq(m.created, true, 'created');
        expect(m.watch_id === undefined, `the first watch of a stream has watch_id 0, omitted; got ${m.watch_id}`);
        expect(m.events === undefined, 'no events in the created response');
      });
      let one;
      await check(`a put on another connection (${first.url}) arrives as one event`, 'doc watch example, kv.proto Event', async () => {
        one = big((await put(first, 'w', '1')).header.revision);
        const m = await s.next(WatchResponse, timeoutMs);
        expect(m !== null, 'the stream ended');
        header(m.header, 'watch event');
        eq(m.events, [{ kv: kvOf('w', '1', { create: one, mod: one, version: 1 }) }], 'events (type PUT is the default: omitted; no prev_kv for a new key)');
        eq(m.header.revision, String(one), 'header.revision of a live event');
      });
      let two;
      await check('the next put carries prev_kv', 'proto WatchCreateRequest.prev_kv', async () => {
        two = big((await put(first, 'w', '2')).header.revision);
        const m = await s.next(WatchResponse, timeoutMs);
        eq(m?.events, [{ kv: kvOf('w', '2', { create: one, mod: two, version: 2 }), prev_kv: kvOf('w', '1', { create: one, mod: one, version: 1 }) }], 'events');
      });
      await check('a delete arrives as type DELETE with key and mod_revision only', 'kv.proto Event.type, json', async () => {
        const d = await first.call('/v3/kv/deleterange', { key: wk }, DeleteRangeResponse);
        header(d.header, 'deleterange');
        const m = await s.next(WatchResponse, timeoutMs);
        eq(m?.events, [{ type: 'DELETE', kv: { key: wk, mod_revision: d.header.revision }, prev_kv: kvOf('w', '2', { create: one, mod: two, version: 2 }) }], 'events');
      });
    } finally {
      s?.close();
    }

    let h;
    try {
      let start;
      await check('a prefix watch from a past revision replays history, then one txn arrives as one message', 'proto WatchCreateRequest.range_end/start_revision, WatchResponse', async () => {
        start = big((await put(first, 'wr/a', 'old')).header.revision);
        h = await last.stream('/v3/watch', [{ create_request: { key: b64(key('wr/')), range_end: b64(prefixEnd(key('wr/'))), start_revision: String(start) } }]);
        const created = await h.next(WatchResponse, timeoutMs);
        eq(created?.created, true, 'created');
        const history = await h.next(WatchResponse, timeoutMs);
        eq(history?.events, [{ kv: kvOf('wr/a', 'old', { create: start, mod: start, version: 1 }) }], 'replayed events');
        expect(big(history.header.revision) >= start, `header.revision ${history.header.revision} is at least the event's revision`);
        const t = await first.call('/v3/kv/txn', { success: [{ request_put: { key: b64(key('wr/b')), value: b64('b') } }, { request_put: { key: b64(key('wr/c')), value: b64('c') } }] }, TxnResponse);
        header(t.header, 'txn');
        const at = big(t.header.revision);
        const m = await h.next(WatchResponse, timeoutMs);
        eq(m?.events, [{ kv: kvOf('wr/b', 'b', { create: at, mod: at, version: 1 }) }, { kv: kvOf('wr/c', 'c', { create: at, mod: at, version: 1 }) }], 'both events of the revision in one message');
      });
    } finally {
      h?.close();
    }

    let c;
    try {
      await check('several requests on one stream: create, create with watch_id "7", cancel 7', 'proto WatchCreateRequest.watch_id, WatchCancelRequest, swagger streaming inputs', async () => {
        c = await last.stream('/v3/watch', [
          { create_request: { key: b64(key('m/a')) } },
          { create_request: { key: b64(key('m/b')), watch_id: '7' } },
          { cancel_request: { watch_id: '7' } },
        ]);
        const a = await c.next(WatchResponse, timeoutMs);
        const b = await c.next(WatchResponse, timeoutMs);
        const x = await c.next(WatchResponse, timeoutMs);
        eq([a?.created, a?.watch_id], [true, undefined], 'first: created, watch_id 0 (omitted)');
        eq([b?.created, b?.watch_id], [true, '7'], 'second: created, watch_id "7"');
        eq([x?.canceled, x?.watch_id], [true, '7'], 'third: canceled, watch_id "7"');
        for (const m of [a, b, x]) header(m.header, 'watch response');
      });
    } finally {
      c?.close();
    }
  });

  // -- compaction ------------------------------------------------------------------------------
  await section('compaction', async () => {
    const c = {};
    await check('two puts, then compaction at the second revision', 'proto CompactionRequest/Response', async () => {
      c.one = big((await put(first, 'c', 'v1')).header.revision);
      c.two = big((await put(first, 'c', 'v2')).header.revision);
      const r = await first.call('/v3/kv/compaction', { revision: String(c.two) }, CompactionResponse);
      header(r.header, 'compaction');
    });
    await check('a read at a compacted revision fails with OutOfRange (code 11, HTTP 400)', 'rpctypes ErrGRPCCompacted, gateway', async () => {
      await first.callFailing('/v3/kv/range', { key: b64(key('c')), revision: String(c.one) }, { status: 400, code: 11, message: 'etcdserver: mvcc: required revision has been compacted' });
    });
    await check('a read at the compaction revision still answers', 'proto CompactionRequest (keeps the newest version)', async () => {
      const g = await range(first, { key: b64(key('c')), revision: String(c.two) }, 'range at the compaction revision');
      eq(g.kvs, [kvOf('c', 'v2', { create: c.one, mod: c.two, version: 2 })], 'kvs');
    });
    await check('compacting the same revision again fails as compacted; a future one as future', 'rpctypes, gateway', async () => {
      await first.callFailing('/v3/kv/compaction', { revision: String(c.two) }, { status: 400, code: 11, message: 'etcdserver: mvcc: required revision has been compacted' });
      await first.callFailing('/v3/kv/compaction', { revision: String(cluster.revision + 1000n) }, { status: 400, code: 11, message: 'etcdserver: mvcc: required revision is a future revision' });
    });
    await check('a watch from a compacted revision is created, then canceled with compact_revision', 'proto WatchResponse.canceled/compact_revision', async () => {
      const s = await last.stream('/v3/watch', [{ create_request: { key: b64(key('c')), start_revision: String(c.one) } }]);
      try {
        const created = await s.next(WatchResponse, timeoutMs);
        eq(created?.created, true, 'created');
        const m = await s.next(WatchResponse, timeoutMs);
        expect(m !== null, 'the stream ended');
        header(m.header, 'canceled watch', { revision: m.header?.revision !== undefined });
        eq(m.canceled, true, 'canceled');
        eq(m.compact_revision, String(c.two), 'compact_revision (the compaction revision)');
        expect(m.events === undefined, 'no events');
      } finally {
        s.close();
      }
    });
  });

  // -- errors ----------------------------------------------------------------------------------
  await section('bad input: etcd\'s error bodies, and nothing changes', async () => {
    let before;
    await check('note the revision', 'proto ResponseHeader.revision', async () => {
      before = (await range(first, { key: b64(key('a')) }, 'range a')).header.revision;
    });
    await check('malformed JSON: HTTP 400, code 3 (InvalidArgument)', 'gateway', async () => {
      await first.callFailing('/v3/kv/put', '{"key": "YQ==", ', { status: 400, code: 3 });
      await first.callFailing('/v3/kv/range', '{bad json', { status: 400, code: 3 });
    });
    await check('bad base64 in a bytes field: HTTP 400, code 3', 'json (bytes are base64), gateway', async () => {
      await first.callFailing('/v3/kv/put', { key: '%%%not base64%%%', value: b64('x') }, { status: 400, code: 3 });
    });
    await check('a field of the wrong JSON type: HTTP 400, code 3', 'json, gateway', async () => {
      await first.callFailing('/v3/kv/range', { key: b64(key('a')), serializable: 'yes' }, { status: 400, code: 3 });
      await first.callFailing('/v3/kv/range', { key: 123 }, { status: 400, code: 3 });
    });
    await check('an unknown enum name: HTTP 400, code 3', 'swagger enum names, gateway', async () => {
      await first.callFailing('/v3/kv/range', { key: b64(key('a')), sort_order: 'SIDEWAYS' }, { status: 400, code: 3 });
    });
    await check('put without a key: "etcdserver: key is not provided"', 'rpctypes ErrGRPCEmptyKey, gateway', async () => {
      await first.callFailing('/v3/kv/put', { value: b64('x') }, { status: 400, code: 3, message: 'etcdserver: key is not provided' });
    });
    await check('a read at a future revision: "etcdserver: mvcc: required revision is a future revision"', 'rpctypes ErrGRPCFutureRev, gateway', async () => {
      await first.callFailing('/v3/kv/range', { key: b64(key('a')), revision: String(cluster.revision + 1_000_000n) }, { status: 400, code: 11, message: 'etcdserver: mvcc: required revision is a future revision' });
    });
    await check('an unknown path answers 404', 'gateway routes (rpc.proto google.api.http)', async () => {
      const r = await first.raw('/v3/kv/no-such-call', {});
      eq(r.status, 404, 'HTTP status');
    });
    await check('none of it wrote anything: the revision is unchanged', 'proto ResponseHeader.revision', async () => {
      const g = await range(first, { key: b64(key('a')) }, 'range a');
      eq(g.header.revision, before, 'header.revision');
    });
  });

  console.log(`\n${report.passed + report.failed} checks: ${report.passed} passed, ${report.failed} failed`);
  return report.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error?.stack ?? error);
    process.exit(1);
  },
);
