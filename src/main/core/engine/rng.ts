import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * Seeded random numbers. Determinism and crash-safe resume rest on one rule: every random draw of a
 * run comes from a stream keyed by (seed, generation, candidate index), never from a generator carried
 * from one generation to the next. So resuming needs no RNG state, and a candidate's draws do not
 * depend on how many draws other candidates made (they could even be made in parallel).
 */

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Splits any safe integer (seeds may exceed 32 bits) into its low and high 32-bit words. */
function words(k: number): [number, number] {
  if (!Number.isSafeInteger(k)) throw new RangeError(`rng key must be a safe integer, got ${k}`);
  const lo = ((k % 0x1_0000_0000) + 0x1_0000_0000) % 0x1_0000_0000;
  const hi = Math.floor(k / 0x1_0000_0000) | 0;
  return [lo >>> 0, hi >>> 0];
}

const TWO_POW_53 = 9007199254740992;

export class Rng {
  private spare = NaN; // second Box-Muller value

  constructor(private readonly g: RandomGenerator) {}

  /**
   * The stream for a tuple of integer keys, e.g. (seed, generation, index). Each of xoroshiro's four
   * state words is a different murmur-style hash of all keys, so neighbouring keys give unrelated
   * streams (pure-rand's own xoroshiro128plus(seed) only fills the state with seed and ~seed).
   */
  static of(...keys: number[]): Rng {
    const state: number[] = [];
    for (let w = 0; w < 4; w++) {
      let h = fmix32(0x9e3779b9 * (w + 1) + keys.length);
      for (const k of keys) {
        for (const part of words(k)) h = fmix32((h ^ Math.imul(part, 0xcc9e2d51)) + 0x6b43a9b5 * (w + 1));
      }
      state.push(h | 0);
    }
    if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1; // the all-zero state is xoroshiro's only fixed point
    const g = xoroshiro128plusFromState(state);
    for (let i = 0; i < 4; i++) g.next(); // let the hashed state settle
    return new Rng(g);
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    return this.g.next() >>> 0;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number {
    const a = this.g.next() >>> 5; // 27 bits
    const b = this.g.next() >>> 6; // 26 bits
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /** Uniform integer in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** true with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Standard normal (Box-Muller; the second value is kept for the next call). */
  gaussian(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    const u = 1 - this.float(); // (0, 1]: log stays finite
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A uniformly chosen element; throws on an empty list. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('choice from an empty list');
    return items[this.below(items.length)];
  }
}
