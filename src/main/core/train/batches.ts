import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { LENET_PIXELS, LENET_SCALE } from './lenet';

/**
 * The seeded order of every epoch and the mini-batches gathered from it: all a training worker
 * needs of the data (data.ts loads it; this module stays light enough for worker threads).
 */

/** A seeded, well-mixed 32-bit seed for (seed, stream): epochs shuffle from independent streams. */
function mixSeed(seed: number, stream: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h | 0;
}

/** Epoch e's order: a Fisher-Yates shuffle from (seed, e) alone, so a resumed run sees the same order. */
export function epochOrder(n: number, seed: number, epoch: number): Uint32Array {
  const rng = xoroshiro128plus(mixSeed(seed, epoch));
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** Pixels of images[idx[from..to)] as Caffe's input (p / 256) into `out`. */
export function gather(images: Uint8Array, idx: ArrayLike<number>, from: number, to: number, out: Float32Array): void {
  for (let b = 0, i = from; i < to; i++, b++) {
    const src = idx[i] * LENET_PIXELS;
    const dst = b * LENET_PIXELS;
    for (let p = 0; p < LENET_PIXELS; p++) out[dst + p] = images[src + p] * LENET_SCALE;
  }
}
