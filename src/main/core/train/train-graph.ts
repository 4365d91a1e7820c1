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
 * - conv1 is computed per pooling phase: one stride-2 Conv with 6x6 kernels holds, for each of
 *   the four positions (dy, dx) of a 2x2 pooling window, the 5x5 kernel shifted by (dy, dx), so
 *   the four values each max compares come out as four slabs of channels. Its weight gradient is
 *   a batched MatMul against the 6x6 windows of the input (an identity convolution), folded back
 *   onto the shared 5x5 kernel.
 * - conv2 keeps its activations as rows of pixels (NHWC, [images * 64 positions, channels]): an
 *   im2col by two Gathers with precomputed indices (rows of 5 pixels, then 5 such rows) then one Gemm
 *   over the whole batch; its weight gradient is one Gemm [50 x B*64] x [B*64 x 500] over the same
 *   columns; its input gradient a ConvTranspose (onnxruntime's is as fast as a GEMM plus col2im).
 * - 2x2 max pooling is Split + Max of the four window slabs, and its backward routes the gradient
 *   to the first maximum of each window (row-major, as Caffe and onnxruntime's MaxPool pick at
 *   ties) with the same comparisons, instead of MaxPool's Indices output and MaxUnpool
 *   (onnxruntime's MaxPool with indices is ~10x slower than a plain max).
 * - Softmax and cross-entropy are fused: dL/dz = w - p * sum(w), w = -onehot / batch.
 *
 * The weights keep the layouts of lenetParams (what checkpoints and the shipped model hold); the
 * reorders they need run on the weights themselves, which are small. The second pooled map is
 * flattened in Caffe's (c, y, x) order for ip1.
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

class Builder {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  private n = 0;
  /** Names every node made from now on "STAGE/op_N": profiles then read by stage. */
  stage = 'input';

  op(type: string, inputs: string[], attrs: Parameters<typeof makeNode>[3] = {}, name?: string): string {
    const id = `${this.stage}/${type.toLowerCase()}_${this.n++}`;
    const out = name ?? id;
    this.nodes.push(makeNode(type, inputs, [out], attrs, id));
    return out;
  }

  ops(type: string, inputs: string[], count: number, attrs: Parameters<typeof makeNode>[3] = {}): string[] {
    const outs = Array.from({ length: count }, () => `${this.stage}/${type.toLowerCase()}_${this.n++}`);
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
 * im2col of a valid k x k convolution over `side` x `side` maps of `n` images, as two Gathers of
 * whole rows: first, for every map row and output column x, the k pixels (x .. x+k-1) it starts
 * (`rowWindows`: row numbers of the [n * side * side, channels] pixel matrix, in order (image, y,
 * x, kx)); then, for each output position (image, y, x) in order, the k row windows (y+ky, x) it
 * reads (`columns`: row numbers of the [n * side * (side-k+1), k * channels] window matrix). The
 * result is the same matrix as one Gather of single pixels, with 5x fewer, 5x longer copies in
 * the second step.
 */
export function im2colIndices(n: number, side: number, k: number): { rowWindows: Int32Array; columns: Int32Array } {
  const out = side - k + 1;
  const rowWindows = new Int32Array(n * side * out * k);
  const columns = new Int32Array(n * out * out * k);
  let at = 0;
  for (let b = 0; b < n; b++) for (let y = 0; y < side; y++) for (let x = 0; x < out; x++) for (let kx = 0; kx < k; kx++) rowWindows[at++] = (b * side + y) * side + x + kx;
  at = 0;
  for (let b = 0; b < n; b++) for (let y = 0; y < out; y++) for (let x = 0; x < out; x++) for (let ky = 0; ky < k; ky++) columns[at++] = (b * side + y + ky) * out + x;
  return { rowWindows, columns };
}

/**
 * Max of the four values of each 2x2 window, given as four slabs (dy, dx) = (0,0), (0,1),
 * (1,0), (1,1); `back` routes the pooled gradient to the first maximum in that (row-major) order:
 * the top row when its max is >= the bottom's, and within a row the left value when it is >= the
 * right one. Masks are 0/1 floats; dy - dy * mask is exact, so the four parts sum to dy.
 */
function pool2x2(g: Builder, [s00, s01, s10, s11]: string[]): { y: string; back: (dy: string) => string[] } {
  const top = g.op('Max', [s00, s01]);
  const bottom = g.op('Max', [s10, s11]);
  const y = g.op('Max', [top, bottom]);
  const mask = (a: string, b: string) => g.op('Cast', [g.op('GreaterOrEqual', [a, b])], { to: DataType.FLOAT });
  return {
    y,
    back: (dy) => {
      const dTop = g.op('Mul', [dy, mask(top, bottom)]);
      const dBottom = g.op('Sub', [dy, dTop]);
      const d00 = g.op('Mul', [dTop, mask(s00, s01)]);
      const d10 = g.op('Mul', [dBottom, mask(s10, s11)]);
      return [d00, g.op('Sub', [dTop, d00]), d10, g.op('Sub', [dBottom, d10])];
    },
  };
}

/**
 * The training graph for `n` images per run and `classes` outputs. Inputs: `data` [n, 784]
 * (pixels / 256), `objective_weights` [n, classes] and the weights (lenetParams names and
 * layouts); outputs: `loss` (a scalar) and grad__NAME for every weight.
 */
export function buildLenetTrainGraph(n: number, classes: number): Uint8Array {
  const g = new Builder();
  const params = lenetParams(classes);
  const Q = P1 * P1; // 144 pooled positions of conv1

  // conv1 by pooling phase: [n, 4 phases, 20, 144] from one stride-2 Conv with the four shifted kernels.
  g.stage = 'conv1';
  const x = g.reshape(TRAIN_INPUT, [n, 1, S, S]);
  const phases = [0, 1, 2, 3].map((ph) => [ph >> 1, ph & 1]);
  const w6 = g.op('Concat', phases.map(([dy, dx]) => g.op('Pad', ['conv1_W', g.ints([0, 0, dy, dx, 0, 0, 1 - dy, 1 - dx])])), { axis: 0 });
  const b6 = g.op('Concat', ['conv1_b', 'conv1_b', 'conv1_b', 'conv1_b'], { axis: 0 });
  const c1 = g.reshape(g.op('Conv', [x, w6, b6], { strides: [2, 2] }), [n, 4, C1, Q]);
  g.stage = 'pool1';
  const pool1 = pool2x2(g, g.ops('Split', [c1, g.ints([1, 1, 1, 1])], 4, { axis: 1 })); // [n, 1, 20, 144]

  // conv2 on rows of pixels: columns [n*64, 500] in (ky, kx, c) order, kernels reordered to match.
  g.stage = 'conv2';
  const p1 = g.reshape(g.op('Transpose', [g.reshape(pool1.y, [n, C1, Q])], { perm: [0, 2, 1] }), [n * Q, C1]);
  const im2col = im2colIndices(n, P1, K1);
  const windows = g.reshape(g.op('Gather', [p1, g.int32('row_windows2', im2col.rowWindows)], { axis: 0 }), [n * P1 * H2, K1 * C1]);
  const cols2 = g.reshape(g.op('Gather', [windows, g.int32('im2col2', im2col.columns)], { axis: 0 }), [n * H2 * H2, K1 * K1 * C1]);
  const w2 = g.reshape(g.op('Transpose', ['conv2_W'], { perm: [0, 2, 3, 1] }), [C2, K1 * K1 * C1]);
  const c2 = g.reshape(g.op('Gemm', [cols2, w2, 'conv2_b'], { transB: 1 }), [n, P2, 2, P2, 2, C2]); // (image, i, dy, j, dx, c)
  g.stage = 'pool2';
  const [c2top, c2bottom] = g.ops('Split', [c2, g.ints([1, 1])], 2, { axis: 2 });
  const pool2 = pool2x2(g, [
    ...g.ops('Split', [c2top, g.ints([1, 1])], 2, { axis: 4 }),
    ...g.ops('Split', [c2bottom, g.ints([1, 1])], 2, { axis: 4 }),
  ]); // [n, 4, 1, 4, 1, 50]

  // ip1 reads Caffe's flattening, (c, y, x).
  g.stage = 'ip1, ip2';
  const flat = g.reshape(g.op('Transpose', [g.reshape(pool2.y, [n, P2 * P2, C2])], { perm: [0, 2, 1] }), [n, FLAT]);
  const h1 = g.op('Gemm', [flat, 'ip1_W', 'ip1_b']);
  const r1 = g.op('Relu', [h1]);
  const z = g.op('Gemm', [r1, 'ip2_W', 'ip2_b']);

  // Loss and dL/dz: J = sum w . log softmax(z); dJ/dz = w - softmax(z) * sum_k w.
  g.stage = 'softmax + cross-entropy';
  const logp = g.op('LogSoftmax', [z], { axis: 1 });
  g.op('ReduceSum', [g.op('Mul', [TRAIN_WEIGHTS, logp])], { keepdims: 0 }, TRAIN_LOSS);
  const dz = g.op('Sub', [TRAIN_WEIGHTS, g.op('Mul', [g.op('Exp', [logp]), g.sum(TRAIN_WEIGHTS, [1], 1)])]);

  // ip2, relu, ip1.
  g.stage = 'ip1, ip2 backward';
  g.op('Gemm', [r1, dz], { transA: 1 }, trainGradName('ip2_W'));
  g.op('ReduceSum', [dz, g.ints([0])], { keepdims: 0 }, trainGradName('ip2_b'));
  const dr1 = g.op('Gemm', [dz, 'ip2_W'], { transB: 1 });
  const dh1 = g.op('Where', [g.op('Greater', [h1, g.floats([0], [])]), dr1, g.floats([0], [])]);
  g.op('Gemm', [flat, dh1], { transA: 1 }, trainGradName('ip1_W'));
  g.op('ReduceSum', [dh1, g.ints([0])], { keepdims: 0 }, trainGradName('ip1_b'));
  const dflat = g.op('Gemm', [dh1, 'ip1_W'], { transB: 1 });
  const dpool2 = g.reshape(g.op('Transpose', [g.reshape(dflat, [n, C2, P2 * P2])], { perm: [0, 2, 1] }), [n, P2, 1, P2, 1, C2]);

  // conv2: weight gradient over the forward's columns; input gradient by ConvTranspose (NCHW).
  g.stage = 'pool2 backward';
  const [d00, d01, d10, d11] = pool2.back(dpool2);
  const rows = (a: string, b: string) => g.op('Concat', [a, b], { axis: 4 });
  const dc2 = g.reshape(g.op('Concat', [rows(d00, d01), rows(d10, d11)], { axis: 2 }), [n * H2 * H2, C2]);
  g.stage = 'conv2 weight gradient';
  g.op('ReduceSum', [dc2, g.ints([0])], { keepdims: 0 }, trainGradName('conv2_b'));
  const dw2 = g.op('Gemm', [dc2, cols2], { transA: 1 });
  g.op('Transpose', [g.reshape(dw2, [C2, K1, K1, C1])], { perm: [0, 3, 1, 2] }, trainGradName('conv2_W'));
  g.stage = 'conv2 input gradient';
  const dc2nchw = g.reshape(g.op('Transpose', [g.reshape(dc2, [n, H2 * H2, C2])], { perm: [0, 2, 1] }), [n, C2, H2, H2]);
  const dpool1 = g.reshape(g.op('ConvTranspose', [dc2nchw, 'conv2_W']), [n, 1, C1, Q]);

  // conv1: only the weight gradient (the input needs none), against the input's 6x6 windows at
  // stride 2 (an identity convolution), then folded: phase (dy, dx) used kernel taps (ky+dy, kx+dx).
  g.stage = 'pool1 backward';
  const dc1 = g.op('Concat', pool1.back(dpool1), { axis: 1 }); // [n, 4, 20, 144]
  g.stage = 'conv1 weight gradient';
  g.op('ReduceSum', [dc1, g.ints([0, 1, 3])], { keepdims: 0 }, trainGradName('conv1_b'));
  const eye = new Array<number>(36 * 36).fill(0);
  for (let k = 0; k < 36; k++) eye[k * 36 + k] = 1;
  const cols6 = g.reshape(g.op('Conv', [x, g.floats(eye, [36, 1, 6, 6])], { strides: [2, 2] }), [n, 36, Q]);
  const dw6 = g.reshape(g.sum(g.op('MatMul', [g.reshape(dc1, [n, 4 * C1, Q]), g.op('Transpose', [cols6], { perm: [0, 2, 1] })]), [0]), [4, C1, 6, 6]);
  const folded = phases.map(([dy, dx], ph) => g.op('Slice', [dw6, g.ints([ph, 0, dy, dx]), g.ints([ph + 1, C1, dy + K1, dx + K1])]));
  g.op('Reshape', [g.op('Sum', folded), g.ints([C1, 1, K1, K1])], {}, trainGradName('conv1_W'));

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
