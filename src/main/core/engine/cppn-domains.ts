import { coordinatePlanes } from './cppn-math';
import type { RenderOptions } from './encoding';

/**
 * The pixels of an image grouped by the CPPN inputs a node sees, for the fast renderer
 * (cppn-render.ts).
 *
 * A CPPN node's value at a pixel is a function of the inputs it depends on (x, y, d; the bias is a
 * constant), computed by the same float operations at every pixel. Pixels that agree on those
 * inputs therefore get bit-identical values, and the node need only be computed once per distinct
 * combination: a node fed by x alone has one value per column (28 instead of 784 on MNIST, 256
 * instead of 65,536 at 256x256), one fed by d alone has one per distance from the centre, a node fed
 * by the bias alone a single value. Evolved networks are full of such nodes (a new node splits one
 * connection and so starts with one input).
 *
 * Inputs are bits of a mask: x 1, y 2, d 4. The domain of a mask lists its distinct combinations
 * ("elements", numbered in the order of the first pixel that has them) with, per pixel, the element
 * it belongs to. Masks that split the pixels the same way (x, y and x, y, d: x and y fix d) share one
 * domain, the one of the canonical mask (fewest inputs).
 */

/** One way of grouping the pixels. */
export class PixelDomain {
  /** Per input (0 x, 1 y, 2 d): its value per element; made on first use. */
  private readonly inputValues: (Float64Array | undefined)[] = [];
  /** Per source domain (by canonical mask): element here -> element there; made on first use. */
  private readonly gathers = new Map<number, Int32Array>();

  constructor(
    private readonly all: PixelDomains,
    readonly mask: number,
    /** Number of elements. */
    readonly size: number,
    /** Pixel -> element; null when every pixel is its own element (element i = pixel i). */
    readonly index: Int32Array | null,
    /** Element -> its first pixel; null when index is null. */
    private readonly rep: Int32Array | null,
  ) {}

  /** Input k's value per element. */
  input(k: number): Float64Array {
    const full = this.all.inputs[k];
    const rep = this.rep;
    if (!rep) return full;
    let v = this.inputValues[k];
    if (!v) {
      v = new Float64Array(this.size);
      for (let e = 0; e < this.size; e++) v[e] = full[rep[e]];
      this.inputValues[k] = v;
    }
    return v;
  }

  /**
   * For a coarser domain `from` (every element here lies within one of its elements): element here
   * -> element there. Not for a domain of the same size (that is this one: no gather needed).
   */
  gatherFrom(from: PixelDomain): Int32Array {
    let g = this.gathers.get(from.mask);
    if (!g) {
      const idx = from.index!; // a coarser domain is never the identity
      const rep = this.rep;
      if (!rep) g = idx;
      else {
        g = new Int32Array(this.size);
        for (let e = 0; e < this.size; e++) g[e] = idx[rep[e]];
      }
      this.gathers.set(from.mask, g);
    }
    return g;
  }
}

/** The domains of all eight masks of one image size and coordinate system. */
export class PixelDomains {
  readonly pixels: number;
  /** The input planes x, y, d over all pixels, computed exactly as the reference renderer does. */
  readonly inputs: Float64Array[];
  /** mask -> its canonical mask. */
  readonly canonical = new Uint8Array(8);
  private readonly domains: PixelDomain[] = [];

  constructor(opts: Pick<RenderOptions, 'width' | 'height' | 'coordinates'>) {
    const { width: W, height: H } = opts;
    const N = (this.pixels = W * H);
    this.inputs = coordinatePlanes(opts);

    // Pixel -> element for every mask (null: the identity), built up one input at a time.
    const index: (Int32Array | null)[] = new Array<Int32Array | null>(8);
    const size: number[] = new Array<number>(8);
    index[0] = new Int32Array(N);
    size[0] = 1;
    for (let mask = 1; mask < 8; mask++) {
      const hi = 1 << (31 - Math.clz32(mask));
      const rest = mask ^ hi;
      let idx: Int32Array | null;
      let n: number;
      if (rest === 0) [idx, n] = distinctValues(this.inputs[Math.log2(hi)]);
      else if (index[rest] === null || index[hi] === null) [idx, n] = [null, N];
      else [idx, n] = distinctPairs(index[rest]!, index[hi]!, size[hi]);
      if (n === N) idx = null; // elements numbered by first pixel: all distinct means element i = pixel i
      index[mask] = idx;
      size[mask] = n;
    }
    // The canonical mask: the submask with the same grouping (same count: a submask's grouping is
    // coarser or equal) and the fewest inputs.
    for (let mask = 0; mask < 8; mask++) {
      let best = mask;
      for (let s = 0; s < 8; s++) {
        if ((s & mask) === s && size[s] === size[mask] && popcount(s) < popcount(best)) best = s;
      }
      this.canonical[mask] = best;
    }
    for (let mask = 0; mask < 8; mask++) {
      if (this.canonical[mask] !== mask) continue;
      const idx = index[mask];
      let rep: Int32Array | null = null;
      if (idx) {
        rep = new Int32Array(size[mask]).fill(-1);
        for (let i = N - 1; i >= 0; i--) rep[idx[i]] = i;
      }
      this.domains[mask] = new PixelDomain(this, mask, size[mask], idx, rep);
    }
  }

  /** The domain of a mask (its canonical mask's). */
  domain(mask: number): PixelDomain {
    return this.domains[this.canonical[mask]];
  }
}

const popcount = (m: number) => (m & 1) + ((m >> 1) & 1) + ((m >> 2) & 1);

/** Pixel -> index of its distinct value (by bits: -0 apart from +0), numbered by first pixel. */
function distinctValues(v: Float64Array): [Int32Array, number] {
  const idx = new Int32Array(v.length);
  const seen = new Map<number | string, number>();
  for (let i = 0; i < v.length; i++) {
    const key = v[i] === 0 && 1 / v[i] < 0 ? '-0' : v[i];
    let e = seen.get(key);
    if (e === undefined) seen.set(key, (e = seen.size));
    idx[i] = e;
  }
  return [idx, seen.size];
}

/** Pixel -> index of its distinct pair (a[i], b[i]), numbered by first pixel. */
function distinctPairs(a: Int32Array, b: Int32Array, nb: number): [Int32Array, number] {
  const idx = new Int32Array(a.length);
  const seen = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    const key = a[i] * nb + b[i];
    let e = seen.get(key);
    if (e === undefined) seen.set(key, (e = seen.size));
    idx[i] = e;
  }
  return [idx, seen.size];
}
