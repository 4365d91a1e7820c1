import type { DirectParams } from '../../../shared/engine';
import { hls8ToRgb8, hsv8ToRgb8 } from './color';
import type { Rng } from './rng';

/**
 * Direct encoding (paper-spec section 3): one gene in [0,1] per pixel value, W*H for grey, W*H*3 for
 * colour laid out HWC (pixel-major; per pixel H,S,V or H,L,S as OpenCV's Mat holds them).
 */

export function directGenomeLength(width: number, height: number, channels: 1 | 3): number {
  return width * height * channels;
}

export function randomDirect(length: number, rng: Rng): Float32Array {
  const g = new Float32Array(length);
  for (let i = 0; i < length; i++) g[i] = rng.float();
  return g;
}

/**
 * Polynomial mutation of one value, exactly as paper-spec (the sferes2 form, not Deb's bounded one):
 * r ~ U[0,1); delta = (2r)^(1/(eta+1)) - 1 if r < 0.5, else 1 - (2(1-r))^(1/(eta+1)); clip(v + delta).
 * E|delta| = 1/(eta+2) (1/17 for eta 15).
 */
export function polynomialMutate(v: number, eta: number, rng: Rng): number {
  const r = rng.float();
  const e = 1 / (eta + 1);
  const delta = r < 0.5 ? Math.pow(2 * r, e) - 1 : 1 - Math.pow(2 * (1 - r), e);
  const x = v + delta;
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** The per-gene mutation rate at a generation: the paper halves it every 1000 generations. */
export function directMutationRate(params: DirectParams, generation: number): number {
  if (params.rateSchedule === 'fixed') return params.mutationRate;
  return params.mutationRate / 2 ** Math.floor(generation / 1000);
}

/**
 * Mutates each gene independently with probability `rate`, in place. Rather than one draw per gene
 * (196,608 genes per ImageNet image), it jumps to the next mutated gene with a geometric gap, which
 * gives exactly the same distribution of mutated positions.
 */
export function mutateDirectInPlace(genes: Float32Array, rate: number, eta: number, rng: Rng): void {
  if (rate <= 0) return;
  if (rate >= 1) {
    for (let i = 0; i < genes.length; i++) genes[i] = polynomialMutate(genes[i], eta, rng);
    return;
  }
  const logq = Math.log(1 - rate);
  let i = -1;
  for (;;) {
    // gap ~ Geometric(rate) on {0, 1, ...}: genes skipped before the next mutated one
    i += 1 + Math.floor(Math.log(1 - rng.float()) / logq);
    if (i >= genes.length) return;
    genes[i] = polynomialMutate(genes[i], eta, rng);
  }
}

/**
 * Simulated binary crossover (Deb & Agrawal, bounded form), giving one child, as the released code
 * (sferes2's evo_float sbx) does it: every gene where the parents differ is crossed, and which of the
 * two offspring values goes to this child is a coin flip per gene. Unlike the released code, genes
 * where the parents are (nearly) equal are copied, not reset to 0.5.
 */
export function sbx(a: Float32Array, b: Float32Array, eta: number, rng: Rng): Float32Array {
  const child = new Float32Array(a);
  const e = 1 / (eta + 1);
  for (let i = 0; i < a.length; i++) {
    const y1 = Math.min(a[i], b[i]);
    const y2 = Math.max(a[i], b[i]);
    if (y2 - y1 < 1e-14) continue; // equal parents: the child keeps the value
    const r = rng.float();
    const span = y2 - y1;
    const betaq = (beta: number): number => {
      const alpha = 2 - Math.pow(beta, -(eta + 1));
      return r <= 1 / alpha ? Math.pow(r * alpha, e) : Math.pow(1 / (2 - r * alpha), e);
    };
    let c1 = 0.5 * (y1 + y2 - betaq(1 + (2 * y1) / span) * span);
    let c2 = 0.5 * (y1 + y2 + betaq(1 + (2 * (1 - y2)) / span) * span);
    c1 = c1 < 0 ? 0 : c1 > 1 ? 1 : c1;
    c2 = c2 < 0 ? 0 : c2 > 1 ? 1 : c2;
    child[i] = rng.float() < 0.5 ? c1 : c2;
  }
  return child;
}

/**
 * Genes -> 8-bit HWC pixels. Grey: int(v * 255). Colour: each gene -> int(v * 255) read as H,S,V or
 * H,L,S (see color.ts) and converted to R,G,B.
 */
export function renderDirect(
  genes: Float32Array,
  channels: 1 | 3,
  colorSpace: 'hsv' | 'hls',
  out: Uint8Array = new Uint8Array(genes.length),
): Uint8Array {
  if (out.length !== genes.length) throw new RangeError(`output has ${out.length} bytes, genome ${genes.length} genes`);
  if (channels === 1) {
    for (let i = 0; i < genes.length; i++) out[i] = (genes[i] * 255) | 0;
    return out;
  }
  const f = colorSpace === 'hsv' ? hsv8ToRgb8 : hls8ToRgb8;
  for (let o = 0; o < genes.length; o += 3) {
    f((genes[o] * 255) | 0, (genes[o + 1] * 255) | 0, (genes[o + 2] * 255) | 0, out, o);
  }
  return out;
}
