/** Uniform numbers from a counter-based stream: plain integer arithmetic, the same on every platform. */
export interface Random {
  /** In [0, 1). */
  next(): number;
  /** In [low, high). */
  uniform(low: number, high: number): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** true with probability p. */
  chance(p: number): boolean;
}

/** murmur3's 32-bit finaliser: every input bit flips about half of the output bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The stream named by `seed` and `counters` (say, a batch index and a patch slot): a pure function of
 * them, so any batch can be drawn alone, in any order. mulberry32 over a hash of the key.
 */
export function randomStream(seed: number, ...counters: number[]): Random {
  let state = 0x9e3779b9;
  for (const word of [seed % 2 ** 32, Math.floor(seed / 2 ** 32), ...counters]) {
    state = fmix32((state ^ fmix32(word >>> 0)) + 0x6d2b79f5);
  }
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (low, high) => low + (high - low) * next(),
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
  };
}
