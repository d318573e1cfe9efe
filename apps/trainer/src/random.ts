/** A seeded uniform generator on [0, 1) (mulberry32) whose whole state is one uint32. */
export class SeededRandom {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  next = (): number => {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seededRandom(seed: number): () => number {
  return new SeededRandom(seed).next;
}

/**
 * Routes `Math.random` through `random` until the returned restore function is called. tfjs draws the
 * seeds of unseeded random ops (dropout) from `Math.random`, so this makes training steps a function of
 * the saved RNG state, which is what exact resume needs.
 */
export function routeMathRandom(random: SeededRandom): () => void {
  const original = Math.random;
  Math.random = random.next;
  return () => {
    Math.random = original;
  };
}
