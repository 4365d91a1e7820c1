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
import { F4x5, kernelTransform, tiledBT } from '../models/winograd';

/**
 * LeNet's training step as one ONNX graph, written out by hand for speed: forward, mean
 * cross-entropy and the gradient of every weight for a fixed mini-batch (or a worker's share of
 * one). The generic backward builder (core/grad) differentiates any model with onnxruntime's
 * convolution kernels; for this one small network a different formulation is 2-3x faster
 * (docs/benchmarks.md, "Training"): fewer multiplies in conv2, and every heavy step a GEMM:
 *
 * - conv1 is computed per pooling phase: one stride-2 Conv with 6x6 kernels holds, for each of
 *   the four positions (dy, dx) of a 2x2 pooling window, the 5x5 kernel shifted by (dy, dx), so
 *   the four values each max compares come out as four slabs of channels. Its weight gradient is
 *   a batched MatMul against the 6x6 windows of the input (an identity convolution), folded back
 *   onto the shared 5x5 kernel.
 * - conv2 in Winograd form F(4x4, 5x5) (models/winograd.ts): each image's 12x12 input as 2x2 overlapping
 *   8x8 tiles, transformed (B^T d B) by two MatMuls whose constant matrices also cut the tiles; the
 *   kernels transformed (G g G^T) by one Gemm; then, for each of the 64 transformed positions, one
 *   [tiles x 20] x [20 x 50] product (a batched MatMul, 6.25x fewer multiplies than the direct
 *   convolution's GEMM); the output transform (A^T M A) is two more small MatMuls. The backward
 *   runs back through the same linear maps: the weight gradient is the per-position products
 *   V^T dM folded back through G, the input gradient dM U^T transformed back through B, where the
 *   transposed tile matrices sum the overlaps. Layouts are chosen so that every Transpose moves
 *   one axis (onnxruntime's fast case) except the small one at the flattening for ip1. The
 *   float32 error is ~4x the direct GEMM's (docs/benchmarks.md, training).
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
// conv2 in Winograd F(4x4, 5x5): 8x8 input tiles at a stride of 4, two per side of the 12x12 map.
const WA = F4x5.a; // 8
const WM = F4x5.m; // 4
const wino = { tileBT: tiledBT(F4x5, 2), kernelG: kernelTransform(F4x5), AT: F4x5.AT.flat() };
const transpose = (flat: number[], rows: number): number[] => {
  const cols = flat.length / rows;
  return Array.from({ length: flat.length }, (_, i) => flat[(i % rows) * cols + Math.floor(i / rows)]);
};

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

  // conv2 in Winograd form: every image's 8x8 output is 2x2 tiles of 4x4, each from an 8x8 input
  // tile; the products become 64 independent [tiles x 20] x [20 x 50] matrix products, one per
  // transformed position. Layouts: X [y, x, (b, c)]; V [(eta, xi), (ty, tx, b), c]; the output
  // [oy, ox, (ty, tx, b), k], with output pixel (4 ty + oy, 4 tx + ox).
  g.stage = 'conv2';
  const T = 4 * n; // tiles
  const xt = g.op('Transpose', [g.reshape(pool1.y, [n * C1, Q])], { perm: [1, 0] });
  const by = g.floats(wino.tileBT, [2 * WA, P1]);
  const s1 = g.op('MatMul', [by, g.reshape(xt, [P1, P1 * n * C1])]); // [(eta, ty), x, (b, c)]
  const s2 = g.op('MatMul', [by, g.reshape(s1, [2 * WA, P1, n * C1])]); // [(eta, ty), (xi, tx), (b, c)]
  const v = g.reshape(g.op('Transpose', [g.reshape(s2, [WA, 2, WA, 2 * n * C1])], { perm: [0, 2, 1, 3] }), [WA * WA, T, C1]);
  const kron = g.floats(wino.kernelG, [WA * WA, K1 * K1]);
  const wck = g.reshape(g.op('Transpose', [g.reshape('conv2_W', [C2, C1, K1 * K1])], { perm: [1, 0, 2] }), [C1 * C2, K1 * K1]);
  const u = g.reshape(g.op('Gemm', [kron, wck], { transB: 1 }), [WA * WA, C1, C2]); // G g G^T, [(eta, xi), c, k]
  const prod = g.op('MatMul', [v, u]); // [(eta, xi), (ty, tx, b), k]
  const at = g.floats(wino.AT, [WM, WA]);
  const o1 = g.op('MatMul', [at, g.reshape(prod, [WA, WA * T * C2])]); // [oy, xi, ...]
  const o2 = g.op('MatMul', [at, g.reshape(o1, [WM, WA, T * C2])]); // [oy, ox, ...]
  const c2 = g.reshape(o2, [2, 2, 2, 2, T * C2]); // (oy/2, dy, ox/2, dx, ...), without the bias (added after pooling)
  g.stage = 'pool2';
  const [c2top, c2bottom] = g.ops('Split', [c2, g.ints([1, 1])], 2, { axis: 1 });
  const pool2 = pool2x2(g, [
    ...g.ops('Split', [c2top, g.ints([1, 1])], 2, { axis: 3 }),
    ...g.ops('Split', [c2bottom, g.ints([1, 1])], 2, { axis: 3 }),
  ]); // [oy/2, 1, ox/2, 1, (ty, tx, b, k)]: pooled pixel (2 ty + oy/2, 2 tx + ox/2)
  // conv2's bias after the max (the same values: rounding x + b is monotonic in x), on 4x fewer values.
  const pooled = g.op('Add', [g.reshape(pool2.y, [P2 * P2 * n, C2]), 'conv2_b']); // [(oy/2, ox/2, ty, tx), (b, k)]

  // ip1 reads Caffe's flattening, (c, y, x).
  g.stage = 'ip1, ip2';
  // Caffe's (c, y, x) order with y = 2 ty + oy/2, x = 2 tx + ox/2: a 2-D transpose, then the order
  // of the 16 positions by a 0/1 permutation matrix (exact: each output is one product by 1 plus zeros),
  // much faster than onnxruntime's general 6-D Transpose.
  const toCaffe = new Array<number>(P2 ** 4).fill(0);
  for (let oy = 0; oy < 2; oy++) for (let ox = 0; ox < 2; ox++) for (let ty = 0; ty < 2; ty++) for (let tx = 0; tx < 2; tx++) toCaffe[(((oy * 2 + ox) * 2 + ty) * 2 + tx) * P2 * P2 + (2 * ty + oy) * P2 + 2 * tx + ox] = 1;
  const flat = g.reshape(g.op('MatMul', [g.op('Transpose', [g.reshape(pooled, [P2 * P2, n * C2])], { perm: [1, 0] }), g.floats(toCaffe, [P2 * P2, P2 * P2])]), [n, FLAT]);
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
  const fromCaffe = g.floats(transpose(toCaffe, P2 * P2), [P2 * P2, P2 * P2]);
  const dpooled = g.op('Transpose', [g.op('MatMul', [g.reshape(dflat, [n * C2, P2 * P2]), fromCaffe])], { perm: [1, 0] }); // [(oy/2, ox/2, ty, tx), (b, k)]
  const dpool2 = g.reshape(dpooled, [2, 1, 2, 1, T * C2]);

  // conv2 backward through the same linear maps: dM = A dY A^T per tile; the weight gradient from
  // the per-position products V^T dM, folded back through G; the input gradient from dM U^T,
  // through B and summed where the tiles overlap (the constant matrices' overlapping columns).
  g.stage = 'pool2 backward';
  const [d00, d01, d10, d11] = pool2.back(dpool2);
  const rows = (a: string, b: string) => g.op('Concat', [a, b], { axis: 3 });
  const dc2 = g.op('Concat', [rows(d00, d01), rows(d10, d11)], { axis: 1 }); // [oy, ox, (ty, tx, b, k)]
  g.stage = 'conv2 weight gradient';
  g.op('ReduceSum', [g.reshape(dpooled, [P2 * P2 * n, C2]), g.ints([0])], { keepdims: 0 }, trainGradName('conv2_b'));
  const a = g.floats(transpose(wino.AT, WM), [WA, WM]);
  const do1 = g.op('MatMul', [a, g.reshape(dc2, [WM, WM, T * C2])]); // [oy, xi, ...]
  const dprod = g.reshape(g.op('MatMul', [a, g.reshape(do1, [WM, WA * T * C2])]), [WA * WA, T, C2]); // [(eta, xi), (ty, tx, b), k]
  // (onnxruntime fuses this Transpose into the MatMul, transA: 0.35 ms against the forward product's 0.25.)
  const du = g.op('MatMul', [g.op('Transpose', [v], { perm: [0, 2, 1] }), dprod]); // [(eta, xi), c, k]
  const dwck = g.op('Gemm', [g.reshape(du, [WA * WA, C1 * C2]), kron], { transA: 1 }); // [(c, k), 25]
  g.op('Transpose', [g.reshape(dwck, [C1, C2, K1, K1])], { perm: [1, 0, 2, 3] }, trainGradName('conv2_W'));
  g.stage = 'conv2 input gradient';
  const ut = g.reshape(g.op('Gemm', [kron, g.reshape('conv2_W', [C2 * C1, K1 * K1])], { transB: 1 }), [WA * WA, C2, C1]); // [(eta, xi), k, c]
  const dv = g.op('MatMul', [dprod, ut]); // [(eta, xi), (ty, tx, b), c]
  const ds2 = g.op('Transpose', [g.reshape(dv, [WA, WA, 2, 2 * n * C1])], { perm: [0, 2, 1, 3] }); // [(eta, ty), (xi, tx), (b, c)]
  const b = g.floats(transpose(wino.tileBT, 2 * WA), [P1, 2 * WA]);
  const ds1 = g.op('MatMul', [b, g.reshape(ds2, [2 * WA, 2 * WA, n * C1])]); // [(eta, ty), x, (b, c)]
  const dxt = g.op('MatMul', [b, g.reshape(ds1, [2 * WA, P1 * n * C1])]); // [y, x, (b, c)]
  const dpool1 = g.reshape(g.op('Transpose', [g.reshape(dxt, [Q, n * C1])], { perm: [1, 0] }), [n, 1, C1, Q]);

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
