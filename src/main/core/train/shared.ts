import type { TrainSettings } from './settings';

/**
 * What the training workers share with each other and with the thread that starts them: the
 * data, the weights, the optimiser state and every worker's gradient live in shared memory,
 * so a step moves no messages; the workers meet at a barrier (Atomics) twice per step:
 *
 *   run the share of the batch -> write its gradient -> barrier -> update my range of the
 *   weights from the gradients summed in worker order -> barrier -> next batch
 *
 * The starting thread only sends commands (an epoch, an evaluation), reads progress messages and
 * writes checkpoints between epochs; it can ask the workers to stop after the current batch.
 */

/** Int32 slots of the control block. */
export const CTL = {
  /** Workers arrived at the barrier. */
  count: 0,
  /** Barrier generation: bumped by the last worker to arrive. */
  generation: 1,
  /** Set by the starting thread: stop after the current batch. */
  stop: 2,
  /** The first worker's decision for this batch (read after the barrier, so all agree): 1 = stop. */
  decision: 3,
  /** Set by the starting thread when a worker failed: the others leave their barrier waits. */
  abort: 4,
  size: 8,
} as const;

export interface SharedTraining {
  ctl: SharedArrayBuffer;
  /** Float64 per worker: its share of the current batch's loss. */
  losses: SharedArrayBuffer;
  /**
   * The weights, the optimiser state and every worker's gradient, flat (flatViews): shared
   * WebAssembly memory, so that the optimiser's kernel (sgd-kernel.ts) works in it directly.
   */
  flat: WebAssembly.Memory;
  trainImages: SharedArrayBuffer;
  trainLabels: SharedArrayBuffer;
  testImages: SharedArrayBuffer;
  testLabels: SharedArrayBuffer;
}

export interface TrainWorkerInit {
  index: number;
  settings: TrainSettings;
  /** Flat size of the weights. */
  total: number;
  trainCount: number;
  testCount: number;
  shared: SharedTraining;
}

export type ToTrainWorker =
  | { type: 'epoch'; epoch: number; iter: number; batches: number }
  | { type: 'evaluate'; from: number; to: number }
  | { type: 'close' };

export type FromTrainWorker =
  | { type: 'ready' }
  | { type: 'progress'; batch: number; loss: number }
  | { type: 'epochEnd'; batches: number; lossSum: number }
  | { type: 'evaluated'; correct: number }
  | { type: 'error'; code: string; message: string };

/** Shared memory for flatViews(total, states, workers). */
export function flatMemory(total: number, states: number, workers: number): WebAssembly.Memory {
  const pages = Math.ceil(((1 + states + workers) * total * 4) / 65536);
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** The flat arrays in the shared memory: the weights, `states` optimiser buffers, one gradient per worker. */
export function flatViews(memory: WebAssembly.Memory, total: number, states: number, workers: number): { weights: Float32Array; state: Float32Array[]; grads: Float32Array[] } {
  const at = (i: number) => new Float32Array(memory.buffer, i * total * 4, total);
  return {
    weights: at(0),
    state: Array.from({ length: states }, (_, j) => at(1 + j)),
    grads: Array.from({ length: workers }, (_, k) => at(1 + states + k)),
  };
}

/** Thrown inside a worker whose barrier wait was cut short because another worker failed. */
export class Aborted extends Error {}

/**
 * How many times a worker polls the barrier before it sleeps (about 60 microseconds): both
 * workers usually arrive within that, and a futex wake-up costs a sleeping thread more than that.
 */
const SPINS = 1 << 13;

/**
 * A reusable barrier for `parties` threads over the control block. Polls briefly, then waits in
 * slices so that a worker whose partner died leaves (the starting thread sets `abort`) instead of
 * hanging.
 */
export function barrier(ctl: Int32Array, parties: number): void {
  if (parties === 1) return;
  const gen = Atomics.load(ctl, CTL.generation);
  if (Atomics.add(ctl, CTL.count, 1) === parties - 1) {
    Atomics.store(ctl, CTL.count, 0);
    Atomics.add(ctl, CTL.generation, 1);
    Atomics.notify(ctl, CTL.generation);
    return;
  }
  for (let i = 0; i < SPINS; i++) if (Atomics.load(ctl, CTL.generation) !== gen) return;
  while (Atomics.load(ctl, CTL.generation) === gen) {
    Atomics.wait(ctl, CTL.generation, gen, 200);
    if (Atomics.load(ctl, CTL.abort) !== 0) throw new Aborted('another training worker failed');
  }
}
