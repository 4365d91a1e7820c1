import { type NodeProto, DataType, attrInt, attrInts, attrString } from '../models/onnx-graph';
import { FoolError } from '../../../shared/errors';
import type { GradContext, Rule } from './context';

/**
 * Backward rules of ops that move, select or reduce elements without arithmetic on them:
 * reshapes, Transpose, Concat/Split, Slice, Pad and the Reduce ops.
 */

const inp = (n: NodeProto, i: number) => n.input![i];
const out = (n: NodeProto, i = 0) => n.output![i];
const normAxis = (a: number, rank: number) => (a < 0 ? a + rank : a);
const nodeName = (n: NodeProto) => n.name || n.output![0];
// "To the end" for Slice (onnxruntime clamps ends to the dimension).
const TO_END = Number.MAX_SAFE_INTEGER;

const reshapeBack: Rule = (n, [dy], _need, c) => [c.reshapeLike(dy, inp(n, 0))];

/**
 * For ops that only route elements (any Slice, Pad in reflect/edge mode): run the same op on a
 * tensor holding each element's own index, which tells where every output element came from,
 * then add dy back at those indices. Works per sample, so the op must leave the batch axis alone.
 */
function routeBack(n: NodeProto, dy: string, c: GradContext): string {
  const x = inp(n, 0);
  const per = c.staticDims(x);
  const m = per.reduce((a, b) => a * b, 1);
  if (m > 1 << 24) throw new FoolError('UNSUPPORTED', `${n.opType} node ${nodeName(n)} on a tensor of ${m} elements per sample`, 'Tensors up to 16M elements per sample are supported');
  const iota = c.float(Array.from({ length: m }, (_, i) => i), [1, ...per]);
  const routed = c.fresh('grad_routed');
  c.nodes.push({ ...n, name: routed, input: [iota, ...n.input!.slice(1)], output: [routed] });
  const upd = c.emit('Reshape', [dy, c.ints([0, -1])]);
  const idx = c.emit('Expand', [c.emit('Cast', [c.emit('Reshape', [routed, c.ints([1, -1])])], { to: DataType.INT64 }), c.emit('Shape', [upd])]);
  const zeros = c.emit('Reshape', [c.zerosLike(x), c.ints([0, -1])]);
  return c.reshapeLike(c.emit('ScatterElements', [zeros, idx, upd], { axis: 1, reduction: 'add' }), x);
}

/** Axes a Reduce node reduces (normalised, sorted), or undefined when it passes x through. */
function reduceAxes(n: NodeProto, c: GradContext): number[] | undefined {
  const rank = c.shape(inp(n, 0)).length;
  const axes = inp(n, 1) ? c.constInts(inp(n, 1), 'axes', n) : (attrInts(n, 'axes') ?? []);
  if (axes.length === 0) return attrInt(n, 'noop_with_empty_axes', 0) ? undefined : Array.from({ length: rank }, (_, i) => i);
  return [...new Set(axes.map((a) => normAxis(a, rank)))].sort((a, b) => a - b);
}

/** ReduceSum and ReduceMean: dy (axes restored when keepdims=0) broadcast back over x, / count for the mean. */
function reduce(mean: boolean): Rule {
  return (n, [dy], _need, c) => {
    const x = inp(n, 0);
    const axes = reduceAxes(n, c);
    if (!axes) return [dy];
    const kept = attrInt(n, 'keepdims', 1) ? dy : c.emit('Unsqueeze', [dy, c.ints(axes)]);
    let g = c.emit('Expand', [kept, c.emit('Shape', [x])]);
    if (mean) {
      const dims = c.shape(x);
      const static_ = axes.every((a) => typeof dims[a] === 'number');
      // Mean over the batch axis: its size is only known at run time.
      const count = static_
        ? c.float([axes.reduce((p, a) => p * (dims[a] as number), 1)])
        : c.emit('Cast', [c.emit('Div', [c.emit('Size', [x]), c.emit('Size', [out(n)])])], { to: DataType.FLOAT });
      g = c.emit('Div', [g, count]);
    }
    return [g];
  };
}

/** Start/end/axis/step of each sliced axis, clamped as onnxruntime does. */
function sliceSpec(n: NodeProto, c: GradContext) {
  const dims = c.shape(inp(n, 0));
  const starts = c.constInts(inp(n, 1), 'starts', n);
  const ends = c.constInts(inp(n, 2), 'ends', n);
  const axes = inp(n, 3) ? c.constInts(inp(n, 3), 'axes', n) : starts.map((_, i) => i);
  const steps = inp(n, 4) ? c.constInts(inp(n, 4), 'steps', n) : starts.map(() => 1);
  return axes.map((a0, i) => {
    const axis = normAxis(a0, dims.length);
    const d = dims[axis];
    if (typeof d !== 'number') throw new FoolError('UNSUPPORTED', `Slice node ${nodeName(n)} slices the batch axis`, 'Slice feature axes only');
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
    const step = steps[i];
    const s = step > 0 ? clamp(starts[i], 0, d) : clamp(starts[i], 0, d - 1);
    const e = step > 0 ? clamp(ends[i], 0, d) : clamp(ends[i], -1, d - 1);
    return { axis, d, s, e, step };
  });
}

const slice: Rule = (n, [dy], _need, c) => {
  const spec = sliceSpec(n, c);
  if (spec.some((p) => p.step !== 1)) return [routeBack(n, dy, c)];
  // Unit steps: the gradient is dy padded with zeros back to x's extent.
  const rank = c.shape(inp(n, 0)).length;
  const pads = new Array<number>(2 * rank).fill(0);
  for (const p of spec) {
    pads[p.axis] = p.s;
    pads[rank + p.axis] = p.d - Math.max(p.e, p.s);
  }
  return [c.emit('Pad', [dy, c.ints(pads)])];
};

const pad: Rule = (n, [dy], _need, c) => {
  const rank = c.shape(inp(n, 0)).length;
  let pads = inp(n, 1) ? c.constInts(inp(n, 1), 'pads', n) : (attrInts(n, 'pads') ?? []);
  if (inp(n, 3)) {
    // opset 18: pads for the listed axes only.
    const axes = c.constInts(inp(n, 3), 'axes', n).map((a) => normAxis(a, rank));
    const full = new Array<number>(2 * rank).fill(0);
    axes.forEach((a, i) => {
      full[a] = pads[i];
      full[rank + a] = pads[axes.length + i];
    });
    pads = full;
  }
  const mode = attrString(n, 'mode') ?? 'constant';
  if (mode !== 'constant') {
    if (pads[0] !== 0 || pads[rank] !== 0) throw new FoolError('UNSUPPORTED', `${mode} Pad node ${nodeName(n)} pads the batch axis`, 'Pad feature axes only');
    return [routeBack(n, dy, c)];
  }
  // Constant padding: cut the padding off dy; where the pads were negative (cropping), pad zeros back.
  const begin = pads.slice(0, rank);
  const end = pads.slice(rank);
  const axes = Array.from({ length: rank }, (_, i) => i).filter((i) => begin[i] > 0 || end[i] > 0);
  let g = dy;
  if (axes.length) g = c.emit('Slice', [g, c.ints(axes.map((a) => begin[a] > 0 ? begin[a] : 0)), c.ints(axes.map((a) => (end[a] > 0 ? -end[a] : TO_END))), c.ints(axes)]);
  if (pads.some((p) => p < 0)) g = c.emit('Pad', [g, c.ints(pads.map((p) => Math.max(0, -p)))]);
  return [g];
};

export const tensorRules: Record<string, Rule> = {
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: (n, [dy], _need, c) => {
    const rank = c.shape(out(n)).length;
    const perm = attrInts(n, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inv = new Array<number>(rank);
    perm.forEach((p, i) => (inv[p] = i));
    return [c.emit('Transpose', [dy], { perm: inv })];
  },
  Concat: (n, [dy], need, c) => {
    const rank = c.shape(out(n)).length;
    const axis = normAxis(attrInt(n, 'axis', 0), rank);
    const sizes = n.input!.map((x) => c.shape(x)[axis]);
    if (!sizes.every((s) => typeof s === 'number')) throw new FoolError('UNSUPPORTED', `Concat (node ${n.name}) along a dynamic axis`, 'Concatenate along channels');
    const parts = (axis === 1 && c.splitConvOutput(dy, sizes as number[])) || c.emitN('Split', [dy, c.ints(sizes as number[])], sizes.length, { axis });
    // Zero where the whole is <= 0 means zero where each part is.
    if (c.preMasked.has(dy)) for (const p of parts) c.preMasked.add(p);
    return parts.map((p, i) => (need[i] ? p : undefined));
  },
  // The parts' gradients side by side; a part nothing used contributes zeros.
  Split: (n, dy, _need, c) => {
    const axis = normAxis(attrInt(n, 'axis', 0), c.shape(inp(n, 0)).length);
    return [c.emit('Concat', n.output!.map((o, i) => dy[i] || c.zerosLike(o)), { axis })];
  },
  // Selecting by constant indices along a feature axis (a ViT's class token, x[:, 0]): routed back.
  Gather: (n, [dy], _need, c) => {
    if (normAxis(attrInt(n, 'axis', 0), c.shape(inp(n, 0)).length) === 0) throw new FoolError('UNSUPPORTED', `Gather node ${nodeName(n)} selects along the batch axis`, 'Gather along feature axes only');
    return [routeBack(n, dy, c)];
  },
  // Broadcasting a tensor up: sum the broadcast axes back.
  Expand: (n, [dy], _need, c) => [c.unbroadcast(dy, c.shape(out(n)), inp(n, 0))],
  Slice: slice,
  Pad: pad,
  ReduceSum: reduce(false),
  ReduceMean: reduce(true),
};
