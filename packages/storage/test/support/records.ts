// Records built as the codec seals them, with payloads the encoders would refuse to write: for
// tests of what open() makes of a well-sealed record of the wrong shape.

import { Packr } from 'msgpackr';
import { sealRecord } from '../../src/codec.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: false });

/** The raft-meta record `key` holding `fields` as its msgpackr payload, with a valid checksum. */
export function sealRecordForTest(key: string, fields: unknown[]): Uint8Array {
  return sealRecord(new TextEncoder().encode(key), packr.pack(fields));
}
