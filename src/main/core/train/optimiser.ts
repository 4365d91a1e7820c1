import type { ParamSpec } from './lenet';
import { sizeOf } from './lenet';
import type { SgdKernel } from './sgd-kernel';
import type { TrainSettings } from './settings';

/**
 * Optimisers: Caffe's SGD and Adam solvers, including lr_mult 2 on biases and L2 weight decay
 * (decay_mult 1 on everything, as Caffe's defaults). Plain typed-array loops over the weights.
 *
 * The weights, the optimiser's buffers and the gradients are flat arrays, every parameter one
 * segment of them in lenetParams order (paramLayout). A step may be split by index ranges: each
 * training worker updates its own range, so the step costs each core half a pass. Every element is
 * updated by the same arithmetic whichever range it falls in, so the split does not change a bit.
 */

export interface OptimizerState {
  /** Caffe's iteration counter (drives the "inv" learning rate and Adam's bias correction). */
  iter: number;
  /** Per parameter: SGD's momentum history, or Adam's first moment then second moment. */
  buffers: Float32Array[];
}

/** Where each parameter sits in the flat arrays. */
export interface ParamSegment {
  name: string;
  offset: number;
  size: number;
  bias: boolean;
}

export function paramLayout(params: ParamSpec[]): { segments: ParamSegment[]; total: number } {
  let offset = 0;
  const segments = params.map((p) => {
    const s = { name: p.name, offset, size: sizeOf(p.dims), bias: p.bias };
    offset += s.size;
    return s;
  });
  return { segments, total: offset };
}

/** How many flat buffers of optimiser state (each the size of the weights) the optimiser keeps. */
export function stateCount(settings: TrainSettings): number {
  return settings.optimizer === 'adam' ? 2 : 1;
}

export function freshState(settings: TrainSettings, params: ParamSpec[]): OptimizerState {
  const buffers: Float32Array[] = [];
  for (let k = 0; k < stateCount(settings); k++) for (const p of params) buffers.push(new Float32Array(sizeOf(p.dims)));
  return { iter: 0, buffers };
}

export interface FlatStep {
  settings: TrainSettings;
  segments: ParamSegment[];
  /** All weights, flat. */
  weights: Float32Array;
  /** Optimiser state, flat: one array (SGD's history) or two (Adam's moments). */
  state: Float32Array[];
  /** The gradient of each worker's share of the batch, summed in this order. */
  grads: Float32Array[];
  /** Caffe's iteration number of this step (0-based). */
  iter: number;
  /** SGD's update in WebAssembly (same bits, ~4x faster), when every array lives in its memory. */
  kernel?: SgdKernel;
}

/** One optimiser step over the elements [from, to) of the flat arrays. */
export function stepRange(s: FlatStep, from: number, to: number): void {
  const { settings, weights: w, grads } = s;
  const { weightDecay: wd, momentum } = settings;
  const g0 = grads[0];
  const g1 = grads.length > 1 ? grads[1] : undefined;
  for (const seg of s.segments) {
    const lo = Math.max(from, seg.offset);
    const hi = Math.min(to, seg.offset + seg.size);
    if (lo >= hi) continue;
    if (grads.length > 2) {
      // More than two workers: sum into the first slot, in worker order (fixed for a worker count).
      for (let i = lo; i < hi; i++) {
        let g = g0[i];
        for (let k = 1; k < grads.length; k++) g += grads[k][i];
        g0[i] = g;
      }
    }
    if (settings.optimizer === 'sgd') {
      // Caffe SGDSolver: v = momentum * v + lr_local * (g + wd * w); w -= v.
      const lr = settings.lr * Math.pow(1 + settings.gamma * s.iter, -settings.power) * (seg.bias ? 2 : 1);
      const v = s.state[0];
      const two = g1 && grads.length === 2 ? g1 : undefined;
      if (s.kernel?.holds(w, v, g0, ...(two ? [two] : []))) {
        s.kernel.step(w, v, g0, two, lo, hi, lr, momentum, wd);
      } else if (two) {
        for (let i = lo; i < hi; i++) {
          const vi = momentum * v[i] + lr * (g0[i] + two[i] + wd * w[i]);
          v[i] = vi;
          w[i] -= vi;
        }
      } else {
        for (let i = lo; i < hi; i++) {
          const vi = momentum * v[i] + lr * (g0[i] + wd * w[i]);
          v[i] = vi;
          w[i] -= vi;
        }
      }
    } else {
      // Caffe AdamSolver (lr_policy fixed): m, v moments; w -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps).
      const t = s.iter + 1;
      const b1 = momentum;
      const b2 = settings.beta2;
      const correction = Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t));
      const lr = settings.lr * (seg.bias ? 2 : 1) * correction;
      const m = s.state[0];
      const v = s.state[1];
      for (let i = lo; i < hi; i++) {
        const gi = (g1 && grads.length === 2 ? g0[i] + g1[i] : g0[i]) + wd * w[i];
        const mi = b1 * m[i] + (1 - b1) * gi;
        const vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= (lr * mi) / (Math.sqrt(vi) + settings.eps);
      }
    }
  }
}

/** The element range [from, to) worker `k` of `workers` updates: equal shares of `total`. */
export function shareOf(total: number, k: number, workers: number): [number, number] {
  return [Math.floor((k * total) / workers), Math.floor(((k + 1) * total) / workers)];
}
