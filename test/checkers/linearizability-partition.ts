// Splits a history by key and prepares each key's operations under the model their kinds name.

import type { Operation } from './history.js';
import { prepareList } from './linearizability-list.js';
import { listKinds, registerKinds, type ModelName, type PreparedPartition } from './linearizability-models.js';
import { prepareRegister } from './linearizability-register.js';

/** Which model a key's operations follow, or a reason they follow none. */
export function modelOf(ops: readonly Operation[]): ModelName | { readonly mixed: string } {
  const registers = ops.filter((op) => registerKinds.has(op.kind));
  const lists = ops.filter((op) => listKinds.has(op.kind));
  if (registers.length > 0 && lists.length > 0) {
    return { mixed: `mixes register operations (#${registers[0]?.id}) with list operations (#${lists[0]?.id})` };
  }
  return lists.length > 0 ? 'list' : 'register';
}

/** Prepares a key's operations for the search under the model their kinds name. */
export function preparePartition(ops: readonly Operation[], name: ModelName): PreparedPartition<unknown> {
  return name === 'register' ? prepareRegister(ops) : prepareList(ops);
}

/** Each key's operations, keys in order. */
export function byKey(ops: readonly Operation[]): Map<string, Operation[]> {
  const keys = new Map<string, Operation[]>();
  for (const op of ops) {
    const list = keys.get(op.key);
    if (list === undefined) keys.set(op.key, [op]);
    else list.push(op);
  }
  return new Map([...keys.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
