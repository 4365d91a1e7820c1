import { type NodeProto, DataType, attrInt, attrInts, attrString } from '../models/onnx-graph';
import { FoolError } from '../../../shared/errors';
import type { GradContext, Rule } from './context';
import { type AxisGeom, windowGeometry } from './shapes';

/**
 * Conv and pooling backward rules: ConvTranspose spreads output gradients back over the windows,
 * Conv correlates them with the input for weight gradients, MaxPool's Indices output plus
 * ScatterElements routes max-pool gradients (exact, first maximum at ties, as onnxruntime picks).
 */

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * ConvTranspose attributes that invert a forward window map exactly: its natural output size is
 * (out-1)*s + span - pb - pe, so the end padding is chosen to land on the forward input size
 * (output_padding when the forward floor dropped trailing input).
 */
function transposeAttrs(geom: AxisGeom[]) {
  const peNeeded = geom.map((g) => (g.out - 1) * g.s + (g.k - 1) * g.d + 1 - g.pb - g.inp);
  return {
    strides: geom.map((g) => g.s),
    dilations: geom.map((g) => g.d),
    pads: [...geom.map((g) => g.pb), ...peNeeded.map((p) => Math.max(0, p))],
    output_padding: peNeeded.map((p) => Math.max(0, -p)),
  };
}

function geometryOf(n: NodeProto, c: GradContext, kernel: number[], ceil = false): AxisGeom[] {
  const geom = windowGeometry(n, c.staticDims(n.input![0], 2), kernel, ceil);
  const out = c.staticDims(n.output![0], 2);
  geom.forEach((g, i) => {
    if (g.out !== out[i]) throw new FoolError('INTERNAL', `inconsistent output size for node ${n.name}`);
  });
  return geom;
}

/**
 * Weight gradient of a convolution of x by W ([o, cg, ...kernel]) whose output gradient is g:
 * dW[o,ci,k] = sum_{n,h} g[n,o,h] * x[n,ci,h*s + k*d - pb]. That is itself a convolution of x
 * (batch = input channel of the group, channels = samples) by g (kernel = output map), with
 * stride d and dilation s, sliced to the kernel.
 */
function convWeightGrad(c: GradContext, x: string, g: string, geom: AxisGeom[], group: number, wDims: number[]): string {
  const [o, cg] = wDims;
  const kernel = wDims.slice(2);
  const sp = kernel.length;
  const og = o / group;
  const inSp = geom.map((a) => a.inp);
  const outSp = geom.map((a) => a.out);
  const spAxes = range(sp).map((i) => i + 3);
  const xs = c.emit('Transpose', [c.emit('Reshape', [x, c.ints([0, group, cg, ...inSp])])], { perm: [2, 1, 0, ...spAxes] });
  const xT = c.emit('Reshape', [xs, c.ints([cg, -1, ...inSp])]);
  const ds = c.emit('Transpose', [c.emit('Reshape', [g, c.ints([0, group, og, ...outSp])])], { perm: [1, 2, 0, ...spAxes] });
  const dT = c.emit('Reshape', [ds, c.ints([o, -1, ...outSp])]);
  const padEnd = geom.map((a) => Math.max(0, (a.k - 1) * a.d + (a.out - 1) * a.s + 1 - a.inp - a.pb));
  const lens = geom.map((a, i) => Math.floor((a.inp + a.pb + padEnd[i] - (a.out - 1) * a.s - 1) / a.d) + 1);
  let gw = c.emit('Conv', [xT, dT], {
    group,
    strides: geom.map((a) => a.d),
    dilations: geom.map((a) => a.s),
    pads: [...geom.map((a) => a.pb), ...padEnd],
  });
  if (lens.some((l, i) => l > kernel[i])) gw = c.emit('Slice', [gw, c.ints(range(sp).map(() => 0)), c.ints(kernel), c.ints(range(sp).map((i) => i + 2))]);
  return c.emit('Transpose', [gw], { perm: [1, 0, ...range(sp).map((i) => i + 2)] });
}

/**
 * Input gradient of a stride-1 convolution as a plain Conv: dx is dy correlated with the kernel
 * flipped in space and with input and output channels swapped (per group), padded by the span
 * minus the forward's padding. onnxruntime runs Conv in its blocked (NCHWc) kernels, which beat
 * ConvTranspose's GEMM + col2im (per-op profile: docs/benchmarks.md). The swapped, flipped
 * weight is a Transpose + Slice of W, folded to a constant when W is a fixed initializer.
 * Undefined where the formulation does not apply (strides, or padding wider than the span).
 */
function convInputGradAsConv(c: GradContext, dy: string, w: string, geom: AxisGeom[], group: number, wDims: number[]): string | undefined {
  const [o, cg] = wDims;
  const kernel = wDims.slice(2);
  // Where onnxruntime's blocked kernels take both sides (channels in blocks of 16), or the kernel
  // is 1x1 (a plain GEMM, no im2col); elsewhere (LeNet's 1 -> 20 -> 50 with 5x5 kernels, RGB
  // inputs) the im2col Conv loses to ConvTranspose (measured).
  const blocked = o % 16 === 0 && (cg * group) % 16 === 0;
  if (geom.some((g) => g.s !== 1) || !(blocked || kernel.every((k) => k === 1))) return undefined;
  const pb = geom.map((g) => (g.k - 1) * g.d - g.pb);
  const pe = geom.map((g, i) => g.inp - g.out - pb[i] + (g.k - 1) * g.d);
  // Padding wider than the span (SqueezeNet's conv10: 1x1 kernel, pads 1): the outputs that saw
  // only padding add nothing to dx, so their gradient is cropped off dy before the Conv.
  if ([...pb, ...pe].some((p) => p < 0)) {
    const sp = geom.length;
    const axes = range(sp).map((i) => i + 2);
    dy = c.emit('Slice', [dy, c.ints(pb.map((p) => Math.max(0, -p))), c.ints(geom.map((g, i) => g.out - Math.max(0, -pe[i]))), c.ints(axes)]);
  }
  const sp = kernel.length;
  const og = o / group;
  const spAxes = range(sp).map((i) => i + 3);
  // W [g*og, cg, k] -> [g*cg, og, k]: within each group, output and input channels swap.
  let wt =
    group === 1
      ? c.emit('Transpose', [w], { perm: [1, 0, ...range(sp).map((i) => i + 2)] })
      : c.emit('Reshape', [c.emit('Transpose', [c.emit('Reshape', [w, c.ints([group, og, cg, ...kernel])])], { perm: [0, 2, 1, ...spAxes] }), c.ints([group * cg, og, ...kernel])]);
  const flipAxes = range(sp).filter((i) => kernel[i] > 1);
  if (flipAxes.length > 0) {
    wt = c.emit('Slice', [wt, c.ints(flipAxes.map(() => -1)), c.ints(flipAxes.map(() => -(2 ** 53))), c.ints(flipAxes.map((i) => i + 2)), c.ints(flipAxes.map(() => -1))]);
  }
  return c.emit('Conv', [dy, wt], { group, kernel_shape: kernel, dilations: geom.map((g) => g.d), pads: [...pb, ...pe].map((p) => Math.max(0, p)) });
}

const conv: Rule = (n, [dy], need, c) => {
  const [x, w] = [n.input![0], n.input![1]];
  const wDims = c.staticDims(w, 0);
  const kernel = wDims.slice(2);
  const sp = kernel.length;
  const group = attrInt(n, 'group', 1);
  const geom = geometryOf(n, c, attrInts(n, 'kernel_shape') ?? kernel);
  const grads: (string | undefined)[] = [];
  if (need[0]) grads[0] = convInputGradAsConv(c, dy, w, geom, group, wDims) ?? c.emit('ConvTranspose', [dy, w], { ...transposeAttrs(geom), group, kernel_shape: kernel });
  if (need[1]) grads[1] = convWeightGrad(c, x, dy, geom, group, wDims);
  if (need[2]) grads[2] = c.reduceSum(dy, [0, ...range(sp).map((i) => i + 2)], false);
  return grads;
};

/**
 * ConvTranspose is the adjoint of the Conv with the same weight, strides, dilations and pads
 * (output_padding only adds trailing output the Conv's floor drops): dx is that Conv of dy, and
 * the weight gradient is the Conv weight gradient with the roles of input and output swapped.
 */
const convTranspose: Rule = (n, [dy], need, c) => {
  const [x, w] = [n.input![0], n.input![1]];
  const wDims = c.staticDims(w, 0);
  const kernel = wDims.slice(2);
  const sp = kernel.length;
  const group = attrInt(n, 'group', 1);
  if ((attrString(n, 'auto_pad') ?? 'NOTSET') !== 'NOTSET' || attrInts(n, 'output_shape')) {
    throw new FoolError('UNSUPPORTED', `ConvTranspose (node ${n.name}) with auto_pad or output_shape`, 'Export it with explicit pads and output_padding (as torch.onnx does)');
  }
  const strides = attrInts(n, 'strides') ?? kernel.map(() => 1);
  const dil = attrInts(n, 'dilations') ?? kernel.map(() => 1);
  const pads = attrInts(n, 'pads') ?? new Array<number>(2 * sp).fill(0);
  const inSp = c.staticDims(x, 2);
  const outSp = c.staticDims(n.output![0], 2);
  // The Conv from y's extent back to x's.
  const geom: AxisGeom[] = kernel.map((k, i) => ({ k, s: strides[i], d: dil[i], pb: pads[i], pe: pads[i + sp], inp: outSp[i], out: inSp[i] }));
  const grads: (string | undefined)[] = [];
  if (need[0]) grads[0] = c.emit('Conv', [dy, w], { strides, dilations: dil, pads, group, kernel_shape: kernel });
  if (need[1]) grads[1] = convWeightGrad(c, dy, x, geom, group, wDims);
  if (need[2]) grads[2] = c.reduceSum(dy, [0, ...range(sp).map((i) => i + 2)], false);
  return grads;
};

/**
 * A max pool's gradient goes to the first maximum of each window: MaxPool's Indices output, then
 * MaxUnpool (windows that do not overlap) or ScatterElements adding (overlapping windows).
 * Where the pool reads ReLU outputs (SqueezeNet's conv1 and fire modules), the ReLU's mask is
 * applied here, to the pooled tensor (a quarter of the size for 3x3/2 windows), and the ReLU
 * passes the result through: every routed element equals its window's maximum, so masking by
 * [max > 0] before routing is the same as masking by [x > 0] after, exactly.
 */
const maxPool: Rule = (n, [dy0], _need, c) => {
  if (attrInt(n, 'storage_order', 0) !== 0) throw new FoolError('UNSUPPORTED', `MaxPool (node ${n.name}) with storage_order 1`, 'Use row-major indices');
  const rectified = c.rectified(n.input![0]);
  const dy = rectified ? c.emit('Mul', [dy0, c.emit('Cast', [c.emit('Greater', [n.output![0], c.float([0])])], { to: DataType.FLOAT })]) : dy0;
  const dx = routeMax(n, dy, c);
  if (rectified) c.preMasked.add(dx);
  return [dx];
};

function routeMax(n: NodeProto, dy: string, c: GradContext): string {
  // Ask the forward MaxPool for its argmax: indices into the flattened input, batch included.
  if (!n.output![1]) n.output![1] = c.fresh(`${n.output![0]}_indices`);
  const x = n.input![0];
  const kernel = attrInts(n, 'kernel_shape')!;
  const strides = attrInts(n, 'strides') ?? kernel.map(() => 1);
  // Non-overlapping windows pick each input at most once: MaxUnpool writes dy at the indices.
  if (kernel.every((k, i) => k <= strides[i]) && (attrInts(n, 'dilations') ?? []).every((d) => d === 1)) {
    const pads = attrInts(n, 'pads');
    return c.emit('MaxUnpool', [dy, n.output![1], c.emit('Shape', [x])], { kernel_shape: kernel, strides, ...(pads ? { pads } : {}) });
  }
  // Overlapping windows can pick the same input twice: accumulate instead of overwrite.
  const flat = c.ints([-1]);
  const zeros = c.emit('Reshape', [c.emit('ConstantOfShape', [c.emit('Shape', [x])]), flat]);
  const idx = c.emit('Reshape', [n.output![1], flat]);
  const scattered = c.emit('ScatterElements', [zeros, idx, c.emit('Reshape', [dy, flat])], { axis: 0, reduction: 'add' });
  return c.reshapeLike(scattered, x);
}

const averagePool: Rule = (n, [dy], _need, c) => {
  const x = n.input![0];
  const kernel = attrInts(n, 'kernel_shape')!;
  if ((attrInts(n, 'dilations') ?? []).some((d) => d !== 1)) throw new FoolError('UNSUPPORTED', `dilated AveragePool (node ${n.name})`, 'Use dilation 1');
  const geom = geometryOf(n, c, kernel, attrInt(n, 'ceil_mode', 0) === 1);
  const [ch, ...inSp] = c.staticDims(x);
  const outSp = geom.map((g) => g.out);
  // Each output divides its window sum by a count that depends on padding and ceil_mode. Rather
  // than re-derive onnxruntime's rule, pool a tensor of ones with the same node: that yields
  // valid/count per output, and valid (in-bounds elements per window) is plain geometry.
  const ones = c.float(new Array(inSp.reduce((a, b) => a * b, 1)).fill(1), [1, 1, ...inSp]);
  const ratio = c.emit('AveragePool', [ones]);
  c.nodes[c.nodes.length - 1].attribute = n.attribute;
  const valid: number[] = [];
  const visit = (axis: number, acc: number) => {
    if (axis === geom.length) return void valid.push(acc);
    const g = geom[axis];
    for (let o = 0; o < g.out; o++) {
      const start = o * g.s - g.pb;
      visit(axis + 1, acc * (Math.min(start + g.k, g.inp) - Math.max(start, 0)));
    }
  };
  visit(0, 1);
  const invCount = c.emit('Div', [ratio, c.float(valid.map((v) => Math.max(v, 1)), [1, 1, ...outSp])]);
  const kOnes = c.float(new Array(ch * kernel.reduce((a, b) => a * b, 1)).fill(1), [ch, 1, ...kernel]);
  return [c.emit('ConvTranspose', [c.emit('Mul', [dy, invCount]), kOnes], { ...transposeAttrs(geom), group: ch, kernel_shape: kernel })];
};

const globalAveragePool: Rule = (n, [dy], _need, c) => {
  const x = n.input![0];
  const area = c.staticDims(x, 2).reduce((a, b) => a * b, 1);
  return [c.emit('Expand', [c.emit('Mul', [dy, c.float([1 / area])]), c.emit('Shape', [x])])];
};

/** The gradient goes to the first maximum of each map (ArgMax's pick), as a max pool's does. */
const globalMaxPool: Rule = (n, [dy], _need, c) => {
  const x = n.input![0];
  const rows = c.emit('Reshape', [x, c.ints([0, 0, -1])]);
  const at = c.emit('ArgMax', [rows], { axis: 2, keepdims: 1 });
  const upd = c.emit('Reshape', [dy, c.ints([0, 0, 1])]);
  return [c.reshapeLike(c.emit('ScatterElements', [c.zerosLike(rows), at, upd], { axis: 2 }), x)];
};

export const spatialRules: Record<string, Rule> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  GlobalMaxPool: globalMaxPool,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
};
