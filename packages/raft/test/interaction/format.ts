// Renders the core's values (entries, messages, Ready, status, log lines) as stable, readable
// text for golden output: one message per line, fields in a fixed order, nothing hidden.

import {
  EntryType,
  MessageType,
  messageTypeName,
  type Entry,
  type Message,
  type Ready,
  type Snapshot,
  type SnapshotMetadata,
  type Status,
} from '../../src/index.js';

const decoder = new TextDecoder();
/** Longer payloads print shortened, so that size-driven scripts stay readable. */
const DATA_CHARS_SHOWN_MAX = 32;

export function formatData(data: Uint8Array): string {
  const text = decoder.decode(data);
  if (text.length <= DATA_CHARS_SHOWN_MAX) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, 16))}...(${data.byteLength} bytes)`;
}

const entryTypeNames = new Map<number, string>(Object.entries(EntryType).map(([name, value]) => [value, name]));

/** `term/index EntryNormal "data"`: term first, as in `Log:term/index`. */
export function formatEntry(e: Entry): string {
  return `${e.term}/${e.index} Entry${entryTypeNames.get(e.type) ?? `Unknown(${e.type})`} ${formatData(e.data)}`;
}

export function formatEntries(entries: readonly Entry[]): string {
  return `[${entries.map(formatEntry).join(', ')}]`;
}

function formatIds(ids: readonly number[]): string {
  return `(${ids.join(',')})`;
}

function formatSnapshotMetadata(meta: SnapshotMetadata): string {
  return `${meta.term}/${meta.index} Voters:${formatIds(meta.confState.voters)}`;
}

export function formatSnapshot(snapshot: Snapshot): string {
  return `Snapshot ${formatSnapshotMetadata(snapshot.metadata)} Bytes:${snapshot.data.byteLength}`;
}

/** The fields each message type prints; any other field that is not at its zero value is printed too. */
const shownFields: Readonly<Record<number, readonly (keyof Message)[]>> = {
  [MessageType.App]: ['logTerm', 'index', 'commit', 'entries'],
  [MessageType.AppResp]: ['index', 'reject', 'rejectHint', 'logTerm'],
  [MessageType.Vote]: ['logTerm', 'index'],
  [MessageType.PreVote]: ['logTerm', 'index'],
  [MessageType.VoteResp]: ['reject'],
  [MessageType.PreVoteResp]: ['reject'],
  [MessageType.Heartbeat]: ['commit'],
  [MessageType.Snap]: ['snapshot'],
  [MessageType.SnapResp]: ['snapshot'],
  [MessageType.Prop]: ['entries'],
  [MessageType.ReadIndexResp]: ['index'],
  [MessageType.TransferLeader]: ['index'],
};

/** e.g. `1->2 MsgApp Term:1 Log:1/10 Commit:10 Entries:[1/11 EntryNormal "foo"]`. */
export function formatMessage(m: Message): string {
  const parts = [`${m.from}->${m.to} Msg${messageTypeName(m.type)} Term:${m.term}`];
  const shown = shownFields[m.type] ?? [];
  switch (m.type) {
    case MessageType.App:
      parts.push(`Log:${m.logTerm}/${m.index}`, `Commit:${m.commit}`);
      if (m.entries.length > 0) parts.push(`Entries:${formatEntries(m.entries)}`);
      break;
    case MessageType.AppResp:
      parts.push(`Index:${m.index}`);
      // A rejection's hint is a log position: the follower's last entry of a term <= the probe's.
      if (m.reject) parts.push(`Rejected Hint:${m.logTerm}/${m.rejectHint}`);
      else if (m.rejectHint !== 0 || m.logTerm !== 0) parts.push(`Hint:${m.logTerm}/${m.rejectHint}`);
      break;
    case MessageType.Vote:
    case MessageType.PreVote:
      parts.push(`Log:${m.logTerm}/${m.index}`);
      break;
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      if (m.reject) parts.push('Rejected');
      break;
    case MessageType.Heartbeat:
      parts.push(`Commit:${m.commit}`);
      break;
    case MessageType.Snap:
    case MessageType.SnapResp: {
      const chunk = m.snapshot;
      if (chunk === null) {
        parts.push('Snapshot:none');
      } else if (m.type === MessageType.Snap) {
        const end = chunk.offset + chunk.data.byteLength;
        parts.push(`Snapshot:${formatSnapshotMetadata(chunk.metadata)} Chunk:[${chunk.offset},${end})/${chunk.totalBytes}`);
      } else {
        parts.push(`Snapshot:${formatSnapshotMetadata(chunk.metadata)} Received:${chunk.offset}`);
      }
      break;
    }
    case MessageType.Prop:
      parts.push(`Entries:${formatEntries(m.entries)}`);
      break;
    case MessageType.ReadIndexResp:
      parts.push(`Index:${m.index}`);
      break;
    case MessageType.TransferLeader:
      parts.push(`Transferee:${m.index}`);
      break;
  }
  if (m.context !== null) parts.push(`Context:${formatData(m.context)}`);
  // Whatever the type's own format leaves out is shown when set, so no field can hide.
  const extras: [keyof Message, boolean][] = [
    ['logTerm', m.logTerm !== 0],
    ['index', m.index !== 0],
    ['commit', m.commit !== 0],
    ['entries', m.entries.length > 0],
    ['snapshot', m.snapshot !== null],
    ['reject', m.reject],
    ['rejectHint', m.rejectHint !== 0],
  ];
  for (const [field, set] of extras) {
    if (set && !shown.includes(field)) parts.push(`${field}=${field === 'entries' ? formatEntries(m.entries) : JSON.stringify(m[field])}`);
  }
  return parts.join(' ');
}

/** A Ready field by field, in the order the caller acts on it. */
export function formatReady(rd: Ready): string[] {
  const lines = [`Ready MustSync=${rd.mustSync}:`];
  if (rd.softState !== null) lines.push(`SoftState Lead:${rd.softState.leader} Role:${rd.softState.role}`);
  if (rd.hardState !== null) {
    lines.push(`HardState Term:${rd.hardState.term} Vote:${rd.hardState.vote} Commit:${rd.hardState.commit}`);
  }
  if (rd.snapshot !== null) lines.push(formatSnapshot(rd.snapshot));
  if (rd.entries.length > 0) lines.push('Entries:', ...rd.entries.map(formatEntry));
  if (rd.committedEntries.length > 0) lines.push('CommittedEntries:', ...rd.committedEntries.map(formatEntry));
  if (rd.readStates.length > 0) {
    lines.push('ReadStates:', ...rd.readStates.map((s) => `Index:${s.index} Context:${formatData(s.context)}`));
  }
  if (rd.messages.length > 0) lines.push('Messages:', ...rd.messages.map(formatMessage));
  if (rd.messagesAfterPersist.length > 0) lines.push('MessagesAfterPersist:', ...rd.messagesAfterPersist.map(formatMessage));
  return lines;
}

export function formatStatus(s: Status): string[] {
  const lines = [
    `${s.id}: ${s.role} term=${s.term} vote=${s.vote} lead=${s.lead} commit=${s.commit} applied=${s.applied} ` +
      `log=[${s.firstIndex},${s.lastIndex}] transferee=${s.leadTransferee} voters=${formatIds(s.voters)}`,
  ];
  if (s.progress !== null) {
    for (const id of [...s.progress.keys()].sort((a, b) => a - b)) {
      const pr = s.progress.get(id);
      if (pr === undefined) continue;
      lines.push(`  ${id}: ${pr.state} match=${pr.match} next=${pr.next}${pr.recentActive ? ' active' : ''}`);
    }
  }
  return lines;
}

function formatLogValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(formatLogValue).join(',')}]`;
  if (value instanceof Uint8Array) return formatData(value);
  if (typeof value === 'string') return /^[\w.:/-]+$/.test(value) ? value : JSON.stringify(value);
  return String(value);
}

/** `INFO 2 became follower term=1 leader=1`: the core's structured log line, node first. */
export function formatLogLine(level: 'INFO' | 'WARN', event: string, fields: Readonly<Record<string, unknown>>): string {
  const node = fields['node'];
  const rest = Object.entries(fields)
    .filter(([key]) => key !== 'node')
    .map(([key, value]) => `${key}=${formatLogValue(value)}`);
  return [level, node === undefined ? '-' : String(node), event, ...rest].join(' ');
}
