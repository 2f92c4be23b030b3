// A durable test state machine: it records what it applied, and a running digest that two
// nodes share exactly when they applied the same entries in the same order.

import type { Entry } from '../../src/index.js';

export interface AppliedEntry {
  readonly index: number;
  readonly term: number;
  readonly data: string;
}

/** FNV-1a over the previous digest and the entry's index, term and data. */
function mix(digest: number, entry: Entry): number {
  let h = digest ^ 0x811c9dc5;
  const step = (byte: number): void => {
    h ^= byte & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (const n of [entry.index, entry.term]) for (let i = 0; i < 6; i++) step(Math.floor(n / 2 ** (8 * i)));
  for (let i = 0; i < entry.data.byteLength; i++) step(entry.data[i] as number);
  return h >>> 0;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Survives crashes: tests treat it as written atomically with its applied index (DESIGN rule 4),
 * so a restarted node resumes from `appliedIndex`.
 */
export class TestStateMachine {
  appliedIndex = 0;
  digest = 0;
  /** Everything applied since the last restore from a snapshot (entries carry their index). */
  readonly log: AppliedEntry[] = [];
  /** Proposal payloads applied, including those covered by restored snapshots. */
  readonly payloads = new Set<string>();

  apply(entry: Entry): void {
    if (entry.index !== this.appliedIndex + 1) {
      throw new Error(`state machine: applying index ${entry.index} after ${this.appliedIndex} (out of order or twice)`);
    }
    this.appliedIndex = entry.index;
    this.digest = mix(this.digest, entry);
    const data = decoder.decode(entry.data);
    this.log.push({ index: entry.index, term: entry.term, data });
    if (data !== '') this.payloads.add(data);
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify({ index: this.appliedIndex, digest: this.digest, payloads: [...this.payloads] }));
  }

  restore(data: Uint8Array, index: number): void {
    const state = JSON.parse(decoder.decode(data)) as { index: number; digest: number; payloads: string[] };
    if (state.index !== index) throw new Error(`state machine: snapshot data is at ${state.index}, metadata says ${index}`);
    if (index <= this.appliedIndex) {
      throw new Error(`state machine: restoring snapshot at ${index} would move applied back from ${this.appliedIndex}`);
    }
    this.appliedIndex = state.index;
    this.digest = state.digest;
    this.log.length = 0;
    this.payloads.clear();
    for (const p of state.payloads) this.payloads.add(p);
  }
}
