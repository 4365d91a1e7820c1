import { type NodeProto, DataType, attrFloat, attrInt, attrInts } from '../models/onnx-graph';
import { FoolError } from '../../../shared/errors';
import type { GradContext } from './context';
import { spatialRules } from './rules-spatial';

/**
 * A backward rule: given the forward node, the gradient of each of its outputs ('' where none
 * flows) and which inputs need a gradient, emit nodes and return the inputs' gradient names.
 */
export type Rule = (node: NodeProto, dy: string[], need: boolean[], c: GradContext) => (string | undefined)[];

const inp = (n: NodeProto, i: number) => n.input![i];
const out = (n: NodeProto, i = 0) => n.output![i];
const normAxis = (a: number, rank: number) => (a < 0 ? a + rank : a);

/** Ops whose outputs carry no gradient (shapes, masks, constants). */
export const NON_DIFFERENTIABLE = new Set(['Shape', 'Size', 'Constant', 'ConstantOfShape', 'Equal', 'Greater', 'Less', 'ArgMax', 'ArgMin', 'NonZero']);

const passThrough: Rule = (_n, [dy]) => [dy];
const reshapeBack: Rule = (n, [dy], _need, c) => [c.reshapeLike(dy, inp(n, 0))];

/** Elementwise binary ops: local gradients, then sum over the axes the operand was broadcast along. */
function binary(local: (n: NodeProto, dy: string, c: GradContext) => [string | undefined, string | undefined]): Rule {
  return (n, [dy], need, c) => {
    const [ga, gb] = local(n, dy, c);
    const dims = c.shape(out(n));
    return [need[0] && ga ? c.unbroadcast(ga, dims, inp(n, 0)) : undefined, need[1] && gb ? c.unbroadcast(gb, dims, inp(n, 1)) : undefined];
  };
}

const elementwise: Record<string, Rule> = {
  Identity: passThrough,
  Dropout: passThrough,
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  // Masks compare forward values (cheaper than re-deriving conditions); Cast+Mul beat Where here.
  Relu: (n, [dy], _need, c) => [c.emit('Mul', [dy, c.emit('Cast', [c.emit('Greater', [out(n), c.float([0])])], { to: DataType.FLOAT })])],
  // Clip passes the gradient exactly where it left x unchanged; min/max may be inputs, attributes or absent.
  Clip: (n, [dy], _need, c) => [c.emit('Mul', [dy, c.emit('Cast', [c.emit('Equal', [inp(n, 0), out(n)])], { to: DataType.FLOAT })])],
  LeakyRelu: (n, [dy], _need, c) => [
    c.emit('Where', [c.emit('Greater', [inp(n, 0), c.float([0])]), dy, c.emit('Mul', [dy, c.float([attrFloat(n, 'alpha', 0.01)])])]),
  ],
  Sigmoid: (n, [dy], _need, c) => [c.emit('Mul', [dy, c.emit('Mul', [out(n), c.emit('Sub', [c.float([1]), out(n)])])])],
  Tanh: (n, [dy], _need, c) => [c.emit('Mul', [dy, c.emit('Sub', [c.float([1]), c.emit('Mul', [out(n), out(n)])])])],
  Add: binary((_n, dy) => [dy, dy]),
  Sub: binary((_n, dy, c) => [dy, c.emit('Neg', [dy])]),
  Mul: binary((n, dy, c) => [c.emit('Mul', [dy, inp(n, 1)]), c.emit('Mul', [dy, inp(n, 0)])]),
  // d(a/b)/db = -y/b.
  Div: binary((n, dy, c) => [c.emit('Div', [dy, inp(n, 1)]), c.emit('Neg', [c.emit('Div', [c.emit('Mul', [dy, out(n)]), inp(n, 1)])])]),
  // d sqrt(x) = dy / (2 sqrt(x)): rewriteLrn expresses AlexNet's x^0.75 with Sqrt.
  Sqrt: (n, [dy], _need, c) => [c.emit('Div', [dy, c.emit('Mul', [out(n), c.float([2])])])],
  Pow: (n, [dy], need, c) => {
    if (need[1]) throw new FoolError('UNSUPPORTED', `Pow (node ${n.name}) has a trainable exponent`, 'Only constant exponents are supported');
    const [a, b] = [inp(n, 0), inp(n, 1)];
    const ga = c.emit('Mul', [c.emit('Mul', [dy, b]), c.emit('Pow', [a, c.emit('Sub', [b, c.float([1])])])]);
    return [c.unbroadcast(ga, c.shape(out(n)), a)];
  },
  Softmax: (n, [dy], _need, c) => {
    const rank = c.shape(out(n)).length;
    const axis = normAxis(attrInt(n, 'axis', c.opset >= 13 ? -1 : 1), rank);
    const s = c.reduceSum(c.emit('Mul', [dy, out(n)]), [axis], true);
    return [c.emit('Mul', [out(n), c.emit('Sub', [dy, s])])];
  },
  LogSoftmax: (n, [dy], _need, c) => {
    const rank = c.shape(out(n)).length;
    const axis = normAxis(attrInt(n, 'axis', c.opset >= 13 ? -1 : 1), rank);
    return [c.emit('Sub', [dy, c.emit('Mul', [c.emit('Exp', [out(n)]), c.reduceSum(dy, [axis], true)])])];
  },
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
    const parts = c.emitN('Split', [dy, c.ints(sizes as number[])], sizes.length, { axis });
    return parts.map((p, i) => (need[i] ? p : undefined));
  },
  // Inference-form batch norm is a per-channel affine map: dx = dy * scale / sqrt(var + eps).
  BatchNormalization: (n, [dy], need, c) => {
    if (need.slice(1).some(Boolean)) throw new FoolError('UNSUPPORTED', `gradient with respect to BatchNormalization parameters (node ${n.name})`, 'Differentiate with respect to the input or conv/fc weights');
    const rank = c.shape(inp(n, 0)).length;
    const std = c.emit('Sqrt', [c.emit('Add', [inp(n, 4), c.float([attrFloat(n, 'epsilon', 1e-5)])])]);
    const k = c.emit('Reshape', [c.emit('Div', [inp(n, 1), std]), c.ints([-1, ...new Array(rank - 2).fill(1)])]);
    return [c.emit('Mul', [dy, k])];
  },
  MatMul: (n, [dy], need, c) => {
    const [a, b] = [inp(n, 0), inp(n, 1)];
    const ra = c.shape(a).length;
    if (c.shape(b).length !== 2 || ra < 2) throw new FoolError('UNSUPPORTED', `MatMul (node ${n.name}) with a non-matrix right operand`, 'Use MatMul of activations by a 2-D weight');
    const ga = need[0] ? c.emit('MatMul', [dy, c.emit('Transpose', [b], { perm: [1, 0] })]) : undefined;
    let gb: string | undefined;
    if (need[1]) {
      // Batch (and any leading dims) collapse into the reduction over rows.
      const k = c.staticDims(a, ra - 1)[0];
      const m = c.staticDims(b, 1)[0];
      const a2 = ra === 2 ? a : c.emit('Reshape', [a, c.ints([-1, k])]);
      const d2 = ra === 2 ? dy : c.emit('Reshape', [dy, c.ints([-1, m])]);
      gb = c.emit('Gemm', [a2, d2], { transA: 1 });
    }
    return [ga, gb];
  },
  // Y = alpha * A' B' + beta * C with A' = transA ? A^T : A (likewise B).
  Gemm: (n, [dy], need, c) => {
    const [a, b] = [inp(n, 0), inp(n, 1)];
    const alpha = { float: attrFloat(n, 'alpha', 1) };
    const tA = attrInt(n, 'transA', 0);
    const tB = attrInt(n, 'transB', 0);
    let ga: string | undefined;
    let gb: string | undefined;
    let gc: string | undefined;
    if (need[0]) ga = tA ? c.emit('Gemm', [b, dy], { alpha, transA: tB, transB: 1 }) : c.emit('Gemm', [dy, b], { alpha, transB: tB ? 0 : 1 });
    if (need[1]) gb = tB ? c.emit('Gemm', [dy, a], { alpha, transA: 1, transB: tA }) : c.emit('Gemm', [a, dy], { alpha, transA: tA ? 0 : 1 });
    if (need[2]) {
      const beta = attrFloat(n, 'beta', 1);
      const scaled = beta === 1 ? dy : c.emit('Mul', [dy, c.float([beta])]);
      gc = c.unbroadcast(scaled, c.shape(out(n)), inp(n, 2));
    }
    return [ga, gb, gc];
  },
};

export const RULES: Record<string, Rule> = { ...elementwise, ...spatialRules };
