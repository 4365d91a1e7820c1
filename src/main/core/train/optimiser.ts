import type { LenetWeights, ParamSpec } from './lenet';
import { sizeOf } from './lenet';
import type { TrainSettings } from './settings';

/**
 * Optimisers: Caffe's SGD and Adam solvers, including lr_mult 2 on biases and L2 weight decay
 * (decay_mult 1 on everything, as Caffe's defaults). Plain typed-array loops over the weights.
 */

// (decay_mult 1 on everything, as Caffe's defaults).

export interface OptimizerState {
  /** Caffe's iteration counter (drives the "inv" learning rate and Adam's bias correction). */
  iter: number;
  /** Per parameter: SGD's momentum history, or Adam's first moment then second moment. */
  buffers: Float32Array[];
}

export function freshState(settings: TrainSettings, params: ParamSpec[]): OptimizerState {
  const perParam = settings.optimizer === 'adam' ? 2 : 1;
  const buffers: Float32Array[] = [];
  for (let k = 0; k < perParam; k++) for (const p of params) buffers.push(new Float32Array(sizeOf(p.dims)));
  return { iter: 0, buffers };
}

export function step(settings: TrainSettings, params: ParamSpec[], weights: LenetWeights, grads: Float32Array[], state: OptimizerState): void {
  const { weightDecay: wd, momentum } = settings;
  if (settings.optimizer === 'sgd') {
    // Caffe SGDSolver: v = momentum * v + lr_local * (g + wd * w); w -= v.
    const rate = settings.lr * Math.pow(1 + settings.gamma * state.iter, -settings.power);
    params.forEach((p, k) => {
      const w = weights.get(p.name)!;
      const g = grads[k];
      const v = state.buffers[k];
      const lr = rate * (p.bias ? 2 : 1);
      for (let i = 0; i < w.length; i++) {
        const vi = momentum * v[i] + lr * (g[i] + wd * w[i]);
        v[i] = vi;
        w[i] -= vi;
      }
    });
  } else {
    // Caffe AdamSolver (lr_policy fixed): m, v moments; w -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps).
    const t = state.iter + 1;
    const b1 = momentum;
    const b2 = settings.beta2;
    const correction = Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t));
    params.forEach((p, k) => {
      const w = weights.get(p.name)!;
      const g = grads[k];
      const m = state.buffers[k];
      const v = state.buffers[params.length + k];
      const lr = settings.lr * (p.bias ? 2 : 1) * correction;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] + wd * w[i];
        const mi = b1 * m[i] + (1 - b1) * gi;
        const vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= (lr * mi) / (Math.sqrt(vi) + settings.eps);
      }
    });
  }
  state.iter++;
}
