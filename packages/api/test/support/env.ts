// A fixed, seeded MetadataEnv: time stands still unless moved, uids count up, random is a small LCG.

import type { MetadataEnv } from '../../src/index.js';

export interface TestEnv extends MetadataEnv {
  advance(ms: number): void;
}

export function fixedEnv(startMs = Date.UTC(2026, 10, 26, 12, 31, 43, 500), seed = 42): TestEnv {
  let nowMs = startMs;
  let uids = 0;
  let state = seed >>> 0;
  return {
    now: () => nowMs,
    advance: (ms) => void (nowMs += ms),
    uid: () => `6f2b3c1e-0000-4000-8000-${String(++uids).padStart(12, '0')}`,
    random: () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    },
  };
}
