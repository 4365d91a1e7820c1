import { type NodeProto, DataType, attrFloat, attrInt } from '../models/onnx-graph';
import { FoolError } from '../../../shared/errors';
import type { GradContext, Rule } from './context';

/** Backward rules of elementwise ops: activations, broadcasting arithmetic, softmax, batch norm. */

const inp = (n: NodeProto, i: number) => n.input![i];
const out = (n: NodeProto, i = 0) => n.output![i];
const normAxis = (a: number, rank: number) => (a < 0 ? a + rank : a);

const passThrough: Rule = (_n, [dy]) => [dy];
const toFloat = (c: GradContext, mask: string) => c.emit('Cast', [mask], { to: DataType.FLOAT });

/** Elementwise binary ops: local gradients, then sum over the axes the operand was broadcast along. */
function binary(local: (n: NodeProto, dy: string, c: GradContext) => [string | undefined, string | undefined]): Rule {
  return (n, [dy], need, c) => {
    const [ga, gb] = local(n, dy, c);
    const dims = c.shape(out(n));
    return [need[0] && ga ? c.unbroadcast(ga, dims, inp(n, 0)) : undefined, need[1] && gb ? c.unbroadcast(gb, dims, inp(n, 1)) : undefined];
  };
}

/** Mask of 0 < h < 1 for a hard sigmoid output h: where it is not saturated. */
const unsaturated = (c: GradContext, h: string) => toFloat(c, c.emit('And', [c.emit('Greater', [h, c.float([0])]), c.emit('Less', [h, c.float([1])])]));

/** 2^126: a positive float32 times it twice is >= 1 (the smallest subnormal is 2^-149). */
const SCALE = 2 ** 126;

/**
 * [y > 0] for a ReLU output y (>= 0), as dy's mask. Where dy comes out of a Conv here (onnxruntime
 * keeps it in its blocked NCHWc layout) and y's channels come in blocks of 16, it is built from
 * ops that stay blocked, so that the Mul stays blocked too: a depthwise 1x1 Conv by 2^126, then
 * HardSigmoid(alpha = 2^126, beta = 0), which onnxruntime fuses into the Conv. Both products are
 * powers of two (exact; overflow gives +inf): 0 stays 0 and every positive value, subnormals
 * included, ends >= 1, clipped to exactly 1. Greater + Cast would reorder y and dy to NCHW and
 * back (docs/benchmarks.md, issue 15).
 */
function reluMask(c: GradContext, y: string, dy: string): string {
  const dims = c.shape(y);
  const ch = dims[1];
  if (dims.length !== 4 || typeof ch !== 'number' || ch % 16 !== 0 || !c.fromConv(dy)) return toFloat(c, c.emit('Greater', [y, c.float([0])]));
  const w = c.float(new Array<number>(ch).fill(SCALE), [ch, 1, 1, 1]);
  return c.emit('HardSigmoid', [c.emit('Conv', [y, w], { group: ch, kernel_shape: [1, 1] })], { alpha: { float: SCALE }, beta: { float: 0 } });
}

export const pointwiseRules: Record<string, Rule> = {
  Identity: passThrough,
  Dropout: passThrough,
  // Masks compare forward values (cheaper than re-deriving conditions); Cast+Mul beat Where here.
  Relu: (n, [dy], _need, c) => [c.preMasked.has(dy) ? dy : c.emit('Mul', [dy, reluMask(c, out(n), dy)])],
  // Clip passes the gradient exactly where it left x unchanged; min/max may be inputs, attributes or absent.
  Clip: (n, [dy], _need, c) => [c.emit('Mul', [dy, toFloat(c, c.emit('Equal', [inp(n, 0), out(n)]))])],
  LeakyRelu: (n, [dy], _need, c) => [
    c.emit('Where', [c.emit('Greater', [inp(n, 0), c.float([0])]), dy, c.emit('Mul', [dy, c.float([attrFloat(n, 'alpha', 0.01)])])]),
  ],
  // y = x for x > 0, slope * x otherwise; the slope broadcasts to x (per channel, usually).
  PRelu: (n, [dy], need, c) => {
    const [x, slope] = [inp(n, 0), inp(n, 1)];
    const pos = c.emit('Greater', [x, c.float([0])]);
    const gx = need[0] ? c.emit('Where', [pos, dy, c.emit('Mul', [dy, slope])]) : undefined;
    const gs = need[1] ? c.unbroadcast(c.emit('Mul', [dy, c.emit('Min', [x, c.float([0])])]), c.shape(out(n)), slope) : undefined;
    return [gx, gs];
  },
  Sigmoid: (n, [dy], _need, c) => [c.emit('Mul', [dy, c.emit('Mul', [out(n), c.emit('Sub', [c.float([1]), out(n)])])])],
  Tanh: (n, [dy], _need, c) => [c.emit('Mul', [dy, c.emit('Sub', [c.float([1]), c.emit('Mul', [out(n), out(n)])])])],
  // y = max(0, min(1, alpha x + beta)): alpha where unsaturated.
  HardSigmoid: (n, [dy], _need, c) => [c.emit('Mul', [dy, c.emit('Mul', [unsaturated(c, out(n)), c.float([attrFloat(n, 'alpha', 0.2)])])])],
  // y = x h(x), h = HardSigmoid(alpha 1/6, beta 1/2): dy/dx = h + x/6 where h is unsaturated.
  HardSwish: (n, [dy], _need, c) => {
    const x = inp(n, 0);
    const h = c.emit('HardSigmoid', [x], { alpha: { float: 1 / 6 }, beta: { float: 0.5 } });
    const slope = c.emit('Add', [h, c.emit('Mul', [c.emit('Mul', [x, c.float([1 / 6])]), unsaturated(c, h)])]);
    return [c.emit('Mul', [dy, slope])];
  },
  // GELU as torch exports it is x * 0.5 * (1 + Erf(x / sqrt 2)): d erf(x) = 2/sqrt(pi) exp(-x^2).
  Erf: (n, [dy], _need, c) => {
    const x = inp(n, 0);
    return [c.emit('Mul', [dy, c.emit('Mul', [c.emit('Exp', [c.emit('Neg', [c.emit('Mul', [x, x])])]), c.float([2 / Math.sqrt(Math.PI)])])])];
  },
  Neg: (_n, [dy], _need, c) => [c.emit('Neg', [dy])],
  Exp: (n, [dy], _need, c) => [c.emit('Mul', [dy, out(n)])],
  Log: (n, [dy], _need, c) => [c.emit('Div', [dy, inp(n, 0)])],
  Reciprocal: (n, [dy], _need, c) => [c.emit('Neg', [c.emit('Mul', [dy, c.emit('Mul', [out(n), out(n)])])])],
  Abs: (n, [dy], _need, c) => [c.emit('Mul', [dy, c.emit('Sign', [inp(n, 0)])])],
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
  // Older opsets' 2-D coercion is rewritten to Flatten/Softmax/Reshape before we get here
  // (upgradeNodes), so the axis has opset-13 meaning.
  Softmax: (n, [dy], _need, c) => {
    const axis = normAxis(attrInt(n, 'axis', -1), c.shape(out(n)).length);
    const s = c.reduceSum(c.emit('Mul', [dy, out(n)]), [axis], true);
    return [c.emit('Mul', [out(n), c.emit('Sub', [dy, s])])];
  },
  LogSoftmax: (n, [dy], _need, c) => {
    const axis = normAxis(attrInt(n, 'axis', -1), c.shape(out(n)).length);
    return [c.emit('Sub', [dy, c.emit('Mul', [c.emit('Exp', [out(n)]), c.reduceSum(dy, [axis], true)])])];
  },
  // y = xhat * scale + B, xhat = (x - mean) * rstd over the axes from `axis` on. With g = dy * scale:
  // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); dscale = sum(dy * xhat), dB = sum(dy) over the leading axes.
  LayerNormalization: (n, [dy], need, c) => {
    const [x, scale] = [inp(n, 0), inp(n, 1)];
    const dims = c.shape(x);
    const rank = dims.length;
    const axis = normAxis(attrInt(n, 'axis', -1), rank);
    const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
    const lead = Array.from({ length: axis }, (_, i) => i);
    const centred = c.emit('Sub', [x, c.reduceMean(x, axes, true)]);
    const rstd = c.emit('Reciprocal', [c.emit('Sqrt', [c.emit('Add', [c.reduceMean(c.emit('Mul', [centred, centred]), axes, true), c.float([attrFloat(n, 'epsilon', 1e-5)])])])]);
    const xhat = c.emit('Mul', [centred, rstd]);
    const grads: (string | undefined)[] = [];
    if (need[0]) {
      const g = c.emit('Mul', [dy, scale]);
      const inner = c.emit('Sub', [c.emit('Sub', [g, c.reduceMean(g, axes, true)]), c.emit('Mul', [xhat, c.reduceMean(c.emit('Mul', [g, xhat]), axes, true)])]);
      grads[0] = c.emit('Mul', [rstd, inner]);
    }
    const sumLead = (t: string, like: string) => c.reshapeLike(lead.length ? c.reduceSum(t, lead, false) : t, like);
    if (need[1]) grads[1] = sumLead(c.emit('Mul', [dy, xhat]), scale);
    if (need[2]) grads[2] = sumLead(dy, inp(n, 2));
    return grads;
  },
  // Inference-form batch norm is a per-channel affine map: dx = dy * scale / sqrt(var + eps).
  BatchNormalization: (n, [dy], need, c) => {
    if (need.slice(1).some(Boolean)) throw new FoolError('UNSUPPORTED', `gradient with respect to BatchNormalization parameters (node ${n.name})`, 'Differentiate with respect to the input or conv/fc weights');
    const rank = c.shape(inp(n, 0)).length;
    const std = c.emit('Sqrt', [c.emit('Add', [inp(n, 4), c.float([attrFloat(n, 'epsilon', 1e-5)])])]);
    const k = c.emit('Reshape', [c.emit('Div', [inp(n, 1), std]), c.ints([-1, ...new Array(rank - 2).fill(1)])]);
    return [c.emit('Mul', [dy, k])];
  },
};
