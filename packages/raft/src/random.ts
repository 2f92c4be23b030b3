// The seeded generator the core draws its randomness from (election timeouts), so that the same
// seed and the same inputs always give the same run (DESIGN rule 1).

export interface Random {
  /** A uniformly distributed integer in [0, boundExclusive). */
  int(boundExclusive: number): number;
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast chaotic generator), seeded through splitmix32 so that
 * nearby seeds give unrelated streams. Plenty for timeouts and simulations; not for secrets.
 */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  const splitmix32 = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix32();
  let b = splitmix32();
  let c = splitmix32();
  let counter = splitmix32();
  const next = (): number => {
    const t = (((a + b) >>> 0) + counter) >>> 0;
    counter = (counter + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next();
  return {
    int(boundExclusive: number): number {
      if (!Number.isInteger(boundExclusive) || boundExclusive <= 0 || boundExclusive > 0x1_0000_0000) {
        throw new RangeError(`random bound ${boundExclusive} is not an integer in [1, 2^32]`);
      }
      return Math.floor((next() / 0x1_0000_0000) * boundExclusive);
    },
  };
}
