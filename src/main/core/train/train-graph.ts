import {
  DataType,
  encodeModel,
  floatTensor,
  int64Tensor,
  makeNode,
  onnx,
  valueInfo,
  type NodeProto,
  type TensorProto,
} from '../models/onnx-graph';
import { LENET_INPUT, LENET_SIDE, lenetParams } from './lenet';

/**
 * LeNet's training step as one ONNX graph, written out by hand for speed: forward, mean
 * cross-entropy and the gradient of every weight for a fixed mini-batch (or a worker's share of
 * one). The generic backward builder (core/grad) differentiates any model with onnxruntime's
 * convolution kernels; for this one small network a different formulation is 2-3x faster
 * (docs/benchmarks.md, "Training"), because every heavy step becomes one well-shaped GEMM:
 *
 * - Activations are kept as rows of pixels (NHWC: [images * positions, channels]). A 5x5
 *   convolution is an im2col Gather with precomputed indices (conv2 gathers whole 20-channel
 *   pixels, 80-byte blocks) and one Gemm over the whole batch; its weight gradient is the Gemm
 *   [outC x B*positions] x [B*positions x 25*inC] over the same columns, and its input gradient
 *   one MatMul followed by a col2im Gather + ReduceSum.
 * - 2x2 max pooling is Split + Max, and its backward a mask of the first maximum of each window
 *   (row-major, as Caffe and onnxruntime pick at ties) built from the same comparisons, instead of
 *   MaxPool's Indices output and MaxUnpool (which onnxruntime runs ~10x slower than a plain max).
 * - Softmax and cross-entropy are fused: dL/dz = w - p * sum(w), w = -onehot / batch.
 *
 * The weights keep the layouts of lenetParams (what checkpoints and the shipped model hold); the
 * few reorders they need (conv2's [o, c, ky, kx] to [o, ky, kx, c]) run on the weights themselves,
 * which are small. The first pooled map is flattened in Caffe's (c, y, x) order for ip1.
 */

export const TRAIN_INPUT = LENET_INPUT;
/** -onehot(label) / batch per image (a batch split over workers keeps the whole batch's divisor). */
export const TRAIN_WEIGHTS = 'objective_weights';
/** Sum over the images of w . log p: the share of the batch's mean cross-entropy. */
export const TRAIN_LOSS = 'loss';
export function trainGradName(param: string): string {
  return `grad__${param}`;
}

const S = LENET_SIDE; // 28
const K1 = 5; // conv kernels
const C1 = 20;
const C2 = 50;
const H1 = S - K1 + 1; // 24: conv1 output side
const P1 = H1 / 2; // 12: pool1 output side
const H2 = P1 - K1 + 1; // 8: conv2 output side
const P2 = H2 / 2; // 4
const FLAT = C2 * P2 * P2; // 800
const HIDDEN = 500;

class Builder {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  private n = 0;

  op(type: string, inputs: string[], attrs: Parameters<typeof makeNode>[3] = {}, name?: string): string {
    const out = name ?? `${type.toLowerCase()}_${this.n++}`;
    this.nodes.push(makeNode(type, inputs, [out], attrs));
    return out;
  }

  ops(type: string, inputs: string[], count: number, attrs: Parameters<typeof makeNode>[3] = {}): string[] {
    const outs = Array.from({ length: count }, () => `${type.toLowerCase()}_${this.n++}`);
    this.nodes.push(makeNode(type, inputs, outs, attrs));
    return outs;
  }

  ints(values: number[]): string {
    const name = `ints_${this.n++}`;
    this.inits.push(int64Tensor(name, values));
    return name;
  }

  floats(values: number[], dims: number[]): string {
    const name = `floats_${this.n++}`;
    this.inits.push(floatTensor(name, values, dims));
    return name;
  }

  int32(name: string, values: Int32Array): string {
    this.inits.push(
      onnx.TensorProto.create({ name, dims: [values.length], dataType: DataType.INT32, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) }),
    );
    return name;
  }

  reshape(x: string, dims: number[]): string {
    return this.op('Reshape', [x, this.ints(dims)]);
  }

  sum(x: string, axes: number[], keepdims = 0): string {
    return this.op('ReduceSum', [x, this.ints(axes)], { keepdims });
  }
}

/**
 * im2col indices for a valid k x k convolution over `side` x `side` maps of `n` images, the output
 * positions ordered by 2x2 pooling window (image, i, j, dy, dx: y = 2i + dy, x = 2j + dx) so that
 * the four values a max pool compares sit next to each other: for each position, the k*k input
 * pixels (ky, kx) it reads, as row numbers of the [n * side * side, channels] pixel matrix.
 */
export function im2colIndices(n: number, side: number, k: number): Int32Array {
  const half = (side - k + 1) / 2;
  const idx = new Int32Array(n * 4 * half * half * k * k);
  let at = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < half; j++) {
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            const y = 2 * i + dy;
            const x = 2 * j + dx;
            for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) idx[at++] = (b * side + y + ky) * side + x + kx;
          }
        }
      }
    }
  }
  return idx;
}

/**
 * 2x2 max pooling over axis 1 of `x` (the four window positions, row-major): the pooled tensor
 * and `back`, which routes a pooled gradient (axis 1 of size 1) to the first maximum of each
 * window, as Caffe and onnxruntime's MaxPool pick at ties.
 */
function maxPool(g: Builder, x: string, rank: number): { y: string; back: (dy: string) => string } {
  const y = g.op('ReduceMax', [x, g.ints([1])], { keepdims: 0 });
  const first = g.op('ArgMax', [x], { axis: 1, keepdims: 1, select_last_index: 0 });
  const positions = g.ints([0, 1, 2, 3]);
  const shape = [1, 4, ...new Array<number>(rank - 2).fill(1)];
  const mask = g.op('Equal', [first, g.reshape(positions, shape)]);
  return { y, back: (dy) => g.op('Where', [mask, dy, g.floats([0], [])]) };
}

/**
 * The training graph for `n` images per run and `classes` outputs. Inputs: `data` [n, 784]
 * (pixels / 256), `objective_weights` [n, classes] and the weights (lenetParams names and
 * layouts); outputs: `loss` (a scalar) and grad__NAME for every weight.
 */
export function buildLenetTrainGraph(n: number, classes: number, variant: { conv1?: 'conv' | 'matmul'; dw1?: 'phases' | 'cols6' } = {}): Uint8Array {
  const g = new Builder();
  const params = lenetParams(classes);
  const Q = P1 * P1; // 144 pooled positions of conv1

  // conv1 by pooling phase: cols6 [n, 36, 144] holds every 6x6 window at stride 2 (an identity
  // convolution), phase (dy, dx) reads its 5x5 sub-window at offset (dy, dx).
  const x = g.reshape(TRAIN_INPUT, [n, 1, S, S]);
  const eye = new Array<number>(36 * 36).fill(0);
  for (let k = 0; k < 36; k++) eye[k * 36 + k] = 1;
  const cols6 = g.reshape(g.op('Conv', [x, g.floats(eye, [36, 1, 6, 6])], { strides: [2, 2] }), [n, 36, Q]);
  const phaseIdx: number[] = [];
  for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) for (let ky = 0; ky < K1; ky++) for (let kx = 0; kx < K1; kx++) phaseIdx.push((dy + ky) * 6 + dx + kx);
  const colsP = g.reshape(g.op('Gather', [cols6, g.ints(phaseIdx)], { axis: 1 }), [n, 4, K1 * K1, Q]);
  const w1 = g.reshape('conv1_W', [C1, K1 * K1]);
  let c1: string;
  if (variant.conv1 !== 'matmul') {
    const w6 = g.op('Concat', [0, 1, 2, 3].map((ph) => {
      const dy = ph >> 1, dx = ph & 1;
      return g.op('Pad', ['conv1_W', g.ints([0, 0, dy, dx, 0, 0, 1 - dy, 1 - dx])]);
    }), { axis: 0 });
    const b6 = g.op('Concat', ['conv1_b', 'conv1_b', 'conv1_b', 'conv1_b'], { axis: 0 });
    c1 = g.reshape(g.op('Conv', [x, w6, b6], { strides: [2, 2] }), [n, 4, C1, Q]);
  } else {
    c1 = g.op('Add', [g.op('MatMul', [w1, colsP]), g.reshape('conv1_b', [C1, 1])]);
  }
  const pool1 = maxPool(g, c1, 4); // [n, 20, 144]

  // conv2: columns of whole pixels (20 channels) [n*64, 500] (ky, kx, c); kernels reordered to match.
  const p1 = g.reshape(g.op('Transpose', [pool1.y], { perm: [0, 2, 1] }), [n * Q, C1]);
  const cols2 = g.reshape(g.op('Gather', [p1, g.int32('im2col2', im2colIndices(n, P1, K1))], { axis: 0 }), [n * H2 * H2, K1 * K1 * C1]);
  const w2 = g.reshape(g.op('Transpose', ['conv2_W'], { perm: [0, 2, 3, 1] }), [C2, K1 * K1 * C1]);
  const c2 = g.reshape(g.op('Gemm', [cols2, w2, 'conv2_b'], { transB: 1 }), [n * P2 * P2, 4, C2]);
  const pool2 = maxPool(g, c2, 3); // [n*16, 50]

  // ip1 reads Caffe's flattening, (c, y, x).
  const flat = g.reshape(g.op('Transpose', [g.reshape(pool2.y, [n, P2 * P2, C2])], { perm: [0, 2, 1] }), [n, FLAT]);
  const h1 = g.op('Gemm', [flat, 'ip1_W', 'ip1_b']);
  const r1 = g.op('Relu', [h1]);
  const z = g.op('Gemm', [r1, 'ip2_W', 'ip2_b']);

  // Loss and dL/dz: J = sum w . log softmax(z); dJ/dz = w - softmax(z) * sum_k w.
  const logp = g.op('LogSoftmax', [z], { axis: 1 });
  g.op('ReduceSum', [g.op('Mul', [TRAIN_WEIGHTS, logp])], { keepdims: 0 }, TRAIN_LOSS);
  const dz = g.op('Sub', [TRAIN_WEIGHTS, g.op('Mul', [g.op('Exp', [logp]), g.sum(TRAIN_WEIGHTS, [1], 1)])]);

  // ip2, relu, ip1.
  g.op('Gemm', [r1, dz], { transA: 1 }, trainGradName('ip2_W'));
  g.op('ReduceSum', [dz, g.ints([0])], { keepdims: 0 }, trainGradName('ip2_b'));
  const dr1 = g.op('Gemm', [dz, 'ip2_W'], { transB: 1 });
  const dh1 = g.op('Where', [g.op('Greater', [h1, g.floats([0], [])]), dr1, g.floats([0], [])]);
  g.op('Gemm', [flat, dh1], { transA: 1 }, trainGradName('ip1_W'));
  g.op('ReduceSum', [dh1, g.ints([0])], { keepdims: 0 }, trainGradName('ip1_b'));
  const dflat = g.op('Gemm', [dh1, 'ip1_W'], { transB: 1 });
  const dpool2 = g.reshape(g.op('Transpose', [g.reshape(dflat, [n, C2, P2 * P2])], { perm: [0, 2, 1] }), [n * P2 * P2, 1, C2]);

  // conv2: weight gradient over the forward's columns; input gradient by ConvTranspose (NCHW).
  const dc2 = g.reshape(pool2.back(dpool2), [n * H2 * H2, C2]);
  g.op('ReduceSum', [dc2, g.ints([0])], { keepdims: 0 }, trainGradName('conv2_b'));
  const dw2 = g.op('Gemm', [dc2, cols2], { transA: 1 });
  g.op('Transpose', [g.reshape(dw2, [C2, K1, K1, C1])], { perm: [0, 3, 1, 2] }, trainGradName('conv2_W'));
  const dc2nchw = g.reshape(g.op('Transpose', [g.reshape(dc2, [n, P2, P2, 2, 2, C2])], { perm: [0, 5, 1, 3, 2, 4] }), [n, C2, H2, H2]);
  const dpool1 = g.reshape(g.op('ConvTranspose', [dc2nchw, 'conv2_W']), [n, 1, C1, Q]);

  // conv1: only the weight gradient (the input needs none).
  const dc1 = pool1.back(dpool1); // [n, 4, 20, 144]
  g.op('ReduceSum', [dc1, g.ints([0, 1, 3])], { keepdims: 0 }, trainGradName('conv1_b'));
  let dw1: string;
  if (variant.dw1 !== 'phases') {
    const dw6 = g.sum(g.op('MatMul', [g.reshape(dc1, [n, 4 * C1, Q]), g.op('Transpose', [cols6], { perm: [0, 2, 1] })]), [0]); // [80, 36]
    const d6 = g.reshape(dw6, [4, C1, 6, 6]);
    const parts = [0, 1, 2, 3].map((ph) => {
      const dy = ph >> 1, dx = ph & 1;
      return g.op('Slice', [d6, g.ints([ph, 0, dy, dx]), g.ints([ph + 1, C1, dy + K1, dx + K1])]);
    });
    dw1 = g.op('Sum', parts);
  } else {
    dw1 = g.sum(g.op('MatMul', [g.reshape(dc1, [n * 4, C1, Q]), g.op('Transpose', [g.reshape(colsP, [n * 4, K1 * K1, Q])], { perm: [0, 2, 1] })]), [0]);
  }
  g.op('Reshape', [dw1, g.ints([C1, 1, K1, K1])], {}, trainGradName('conv1_W'));
  void w1;

  const graph = onnx.GraphProto.create({
    name: 'LeNet training step',
    node: g.nodes,
    input: [
      valueInfo(TRAIN_INPUT, [n, S * S]),
      valueInfo(TRAIN_WEIGHTS, [n, classes]),
      ...params.map((p) => valueInfo(p.name, p.dims)),
    ],
    output: [valueInfo(TRAIN_LOSS, []), ...params.map((p) => valueInfo(trainGradName(p.name), p.dims))],
    initializer: g.inits,
  });
  return encodeModel(
    onnx.ModelProto.create({ irVersion: 8, producerName: 'fooling-lab', opsetImport: [{ domain: '', version: 18 }], graph }),
  );
}
