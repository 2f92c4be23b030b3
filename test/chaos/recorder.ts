// The history of a chaos run: every record kept in memory for the checkers and appended to
// history.jsonl in the run's folder as it happens (so a run that dies still leaves its history).

import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { HistoryRecord } from '../checkers/history.js';

/** A fault injected or healed: kept in the same file, for reading a history next to the operations. */
export interface FaultRecord {
  readonly type: 'fault';
  readonly atMs: number;
  readonly phase: 'start' | 'end';
  readonly fault: string;
  readonly detail: string;
}

export type RunRecord = HistoryRecord | FaultRecord;

export class Recorder {
  readonly records: RunRecord[] = [];
  private readonly out: WriteStream;
  /** The run's clock: ms since the recorder started. */
  private readonly origin = performance.now();

  constructor(file: string) {
    this.out = createWriteStream(file, { flags: 'w' });
  }

  now(): number {
    return Math.round((performance.now() - this.origin) * 1000) / 1000;
  }

  add(record: RunRecord): void {
    this.records.push(record);
    this.out.write(`${JSON.stringify(record)}\n`);
  }

  async close(): Promise<void> {
    this.out.end();
    await once(this.out, 'close');
  }
}
