import { expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import {
  type ModelProto,
  type NodeProto,
  encodeModel,
  floatTensor,
  int64Tensor,
  onnx,
  valueInfo,
} from '../src/main/core/models/onnx-graph';
import {
  type GradientGraphOptions,
  GRAD_WEIGHTS_INPUT,
  OBJECTIVE_OUTPUT,
  buildGradientModel,
  gradOutputName,
} from '../src/main/core/grad/backward';
import { type T64, evaluate } from '../src/main/core/grad/reference';
import { relErr, rng } from './helpers';

/**
 * The finite-difference harness of the gradient tests: small random graphs, the gradient graph
 * run in onnxruntime (float32), every element of the input and of each weight against central
 * differences of the float64 reference forward (reference.ts; onnxruntime has no float64 Conv or
 * pooling kernels).
 */

const rand = rng(42);
export const uniform = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
const size = (d: number[]) => d.reduce((a, b) => a * b, 1);

export function graph(nodes: NodeProto[], inputDims: number[], output: string, inits: Record<string, number[] | [number[], ArrayLike<number>]>, opset = 13): ModelProto {
  return onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'g',
      node: nodes,
      input: [valueInfo('x', ['N', ...inputDims])],
      output: [valueInfo(output, [])],
      initializer: Object.entries(inits).map(([name, spec]) => {
        const [dims, values] = Array.isArray(spec[0]) ? (spec as [number[], ArrayLike<number>]) : [spec as number[], uniform(size(spec as number[]), -0.5, 0.5)];
        return floatTensor(name, values, dims);
      }),
    },
  });
}

/** Objective sum_n sum_k W f(z) in float64, from the logits tensor `zName`. */
export function objective64(model: ModelProto, feeds: Record<string, T64>, zName: string, W: Float32Array, kind: GradientGraphOptions['objective']): number {
  const z = evaluate(model, feeds, [zName])[zName];
  const N = Object.values(feeds)[0].dims[0];
  const K = z.data.length / N;
  let J = 0;
  for (let n = 0; n < N; n++) {
    const row = Array.from(z.data.subarray(n * K, (n + 1) * K));
    const mx = Math.max(...row);
    const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
    row.forEach((v, k) => {
      const f = kind === 'logit' ? v : kind === 'log-probability' ? v - lse : Math.exp(v - lse);
      J += W[n * K + k] * f;
    });
  }
  return J;
}

export async function runGrad(model: ModelProto, opts: GradientGraphOptions, x: Float32Array, xDims: number[], W: Float32Array, K: number, extra: Record<string, ort.Tensor> = {}, input = 'x') {
  const gm = buildGradientModel(model, opts);
  const s = await ort.InferenceSession.create(encodeModel(gm), { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  const out = await s.run({ [input]: new ort.Tensor('float32', x, xDims), [GRAD_WEIGHTS_INPUT]: new ort.Tensor('float32', W, [xDims[0], K]), ...extra });
  await s.release();
  return out;
}


export interface Case {
  name: string;
  model: ModelProto;
  inputDims: number[];
  K: number;
  z: string; // logits tensor, for the float64 objective
  opts: Omit<GradientGraphOptions, 'wrt'> & { wrt?: string[] };
  xRange?: [number, number];
  /** The model's input name (default x). */
  input?: string;
  /** Check only this many elements of each tensor (evenly spread), for larger models. */
  sample?: number;
}

/** Gradient wrt x and every weight named in wrt, element by element, vs central differences. */
export async function checkCase(c: Case): Promise<Record<string, number>> {
  const N = 2;
  const xDims = [N, ...c.inputDims];
  const x = uniform(size(xDims), ...(c.xRange ?? [-1, 1]));
  const W = uniform(N * c.K);
  const input = c.input ?? 'x';
  const wrt = c.opts.wrt ?? [input];
  const out = await runGrad(c.model, { ...c.opts, wrt }, x, xDims, W, c.K, {}, input);
  const inits = new Map((c.model.graph!.initializer ?? []).map((t) => [t.name!, t]));
  const x64: T64 = { data: Float64Array.from(x), dims: xDims };
  const J0 = objective64(c.model, { [input]: x64 }, c.z, W, c.opts.objective);
  // Per-sample objective matches the float64 forward.
  const jSum = Array.from(out[OBJECTIVE_OUTPUT].data as Float32Array).reduce((a, b) => a + b, 0);
  expect(Math.abs(jSum - J0)).toBeLessThan(1e-5 * Math.max(1, Math.abs(J0)));
  const errors: Record<string, number> = {};
  for (const name of wrt) {
    const gAll = out[gradOutputName(name)].data as Float32Array;
    const h = 1e-5;
    const picks = c.sample && c.sample < gAll.length ? Array.from({ length: c.sample }, (_, j) => Math.floor(((j + 0.5) * gAll.length) / c.sample!)) : Array.from(gAll.keys());
    const g = Float32Array.from(picks, (i) => gAll[i]);
    const fd = new Float64Array(picks.length);
    for (const [slot, i] of picks.entries()) {
      const at = (delta: number) => {
        if (name === input) {
          const d = Float64Array.from(x);
          d[i] += delta;
          return objective64(c.model, { [input]: { data: d, dims: xDims } }, c.z, W, c.opts.objective);
        }
        const t = inits.get(name)!;
        const orig = Float32Array.from(new Float32Array(t.rawData!.slice().buffer));
        const m = onnx.ModelProto.decode(encodeModel(c.model));
        const tm = m.graph!.initializer!.find((q) => q.name === name)!;
        Object.assign(tm, { rawData: new Uint8Array(0), dataType: onnx.TensorProto.DataType.DOUBLE, doubleData: Array.from(orig, (v, j) => (j === i ? v + delta : v)) });
        return objective64(m, { [input]: x64 }, c.z, W, c.opts.objective);
      };
      fd[slot] = (at(h) - at(-h)) / (2 * h);
    }
    errors[name] = relErr(g, fd);
  }
  console.log(`${c.name} [${c.opts.objective}]: relative errors ${JSON.stringify(errors)}`);
  for (const e of Object.values(errors)) expect(e).toBeLessThan(1e-4);
  return errors;
}

/** An int64 initializer (shapes, axes, pads, starts); a plain number is a scalar. */
export function ints(model: ModelProto, name: string, values: number[] | number): void {
  model.graph!.initializer!.push(typeof values === 'number' ? int64Tensor(name, [values], []) : int64Tensor(name, values));
}
