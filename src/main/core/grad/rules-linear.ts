import { type Dim, type NodeProto, attrFloat, attrInt } from '../models/onnx-graph';
import type { GradContext, Rule } from './context';
import { broadcastDims } from './shapes';

/** Backward rules of MatMul (any ranks, batched and broadcast) and Gemm (every transA/transB/alpha/beta). */

const inp = (n: NodeProto, i: number) => n.input![i];
const out = (n: NodeProto, i = 0) => n.output![i];

/** Swaps the last two axes of a tensor of the given rank. */
function swapLast(c: GradContext, x: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return c.emit('Transpose', [x], { perm });
}

const matMul: Rule = (n, [dy], need, c) => {
  const [a, b] = [inp(n, 0), inp(n, 1)];
  const [sa, sb] = [c.shape(a), c.shape(b)];
  if (sb.length === 2 && sa.length >= 2 && sb.every((d) => typeof d === 'number')) {
    // The usual case, activations times a weight matrix: batch and any leading dims collapse into
    // the rows of one Gemm for the weight gradient.
    const ga = need[0] ? c.emit('MatMul', [dy, c.emit('Transpose', [b], { perm: [1, 0] })]) : undefined;
    let gb: string | undefined;
    if (need[1]) {
      const k = c.staticDims(a, sa.length - 1)[0];
      const m = c.staticDims(b, 1)[0];
      const a2 = sa.length === 2 ? a : c.emit('Reshape', [a, c.ints([-1, k])]);
      const d2 = sa.length === 2 ? dy : c.emit('Reshape', [dy, c.ints([-1, m])]);
      gb = c.emit('Gemm', [a2, d2], { transA: 1 });
    }
    return [ga, gb];
  }
  // General numpy matmul: 1-D operands are promoted ([K] -> [1,K] on the left, [K,1] on the
  // right, the added axis dropped from the result), leading axes broadcast. Restore the promoted
  // axes on dy, multiply, then sum the broadcast axes away and reshape to each operand.
  const a2 = sa.length === 1 ? c.emit('Unsqueeze', [a, c.ints([0])]) : a;
  const b2 = sb.length === 1 ? c.emit('Unsqueeze', [b, c.ints([1])]) : b;
  const da: Dim[] = sa.length === 1 ? [1, ...sa] : sa;
  const db: Dim[] = sb.length === 1 ? [...sb, 1] : sb;
  let d2 = dy;
  if (sa.length === 1) d2 = c.emit('Unsqueeze', [d2, c.ints([-2])]);
  if (sb.length === 1) d2 = c.emit('Unsqueeze', [d2, c.ints([-1])]);
  const lead = broadcastDims(da.slice(0, -2), db.slice(0, -2));
  // Sum over the axes the (promoted) operand was broadcast along, then give it its own shape.
  const back = (g: string, opDims: Dim[], operand: string, promoted: boolean) => {
    const gDims = [...lead, opDims.at(-2)!, opDims.at(-1)!];
    const extra = gDims.length - opDims.length;
    const axes = gDims.map((d, i) => i).filter((i) => i < extra || (opDims[i - extra] === 1 && gDims[i] !== 1));
    const summed = axes.length ? c.reduceSum(g, axes, true) : g;
    return extra > 0 || promoted ? c.reshapeLike(summed, operand) : summed;
  };
  const ga = need[0] ? back(c.emit('MatMul', [d2, swapLast(c, b2, db.length)]), da, a, sa.length === 1) : undefined;
  const gb = need[1] ? back(c.emit('MatMul', [swapLast(c, a2, da.length), d2]), db, b, sb.length === 1) : undefined;
  return [ga, gb];
};

// Y = alpha * A' B' + beta * C with A' = transA ? A^T : A (likewise B).
const gemm: Rule = (n, [dy], need, c) => {
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
};

export const linearRules: Record<string, Rule> = { MatMul: matMul, Gemm: gemm };
