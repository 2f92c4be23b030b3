// resource.Quantity parsing, enough to check syntax, sign and request <= limit (apimachinery
// pkg/api/resource/quantity.go). Values become plain numbers: comparisons need no more precision.

import type { Quantity } from './types/meta.js';

/** Go's ErrFormatWrong text. */
export const quantityFormatMessage = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const quantityRe = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$/;

const suffixMultipliers: Record<string, number> = {
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
};

/** The quantity's value in base units (`500m` is 0.5, `1Ki` is 1024), or undefined when malformed. */
export function parseQuantity(quantity: Quantity): number | undefined {
  if (typeof quantity === 'number') return Number.isFinite(quantity) ? quantity : undefined;
  const match = quantityRe.exec(quantity);
  if (match === null) return undefined;
  const base = Number(match[1]);
  const suffix = match[2] ?? '';
  if (suffix === '') return base;
  if (suffix[0] === 'e' || suffix[0] === 'E') return base * 10 ** Number(suffix.slice(1));
  const multiplier = suffixMultipliers[suffix];
  return multiplier === undefined ? undefined : base * multiplier;
}
