import { type Dim, type NodeProto, type TensorProto, floatTensor, int64Tensor, makeNode } from '../models/onnx-graph';
import { FoolError } from '../../../shared/errors';

type Attrs = Parameters<typeof makeNode>[3];

/**
 * A backward rule: given the forward node, the gradient of each of its outputs ('' where none
 * flows) and which inputs need a gradient, emit nodes and return the inputs' gradient names.
 * (Defined here, beside the context rules write to, so the rule files import only this module.)
 */
export type Rule = (node: NodeProto, dy: string[], need: boolean[], c: GradContext) => (string | undefined)[];

/**
 * What a backward rule may do: read static shapes, and append nodes and constants to the
 * generated graph. Rules return the gradient tensor name of each forward input (undefined when
 * that input needs none).
 */
export class GradContext {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  private readonly consts = new Map<string, string>();

  /**
   * Gradients already zero wherever the forward tensor they belong to is <= 0, so that the ReLU
   * producing that tensor passes them through instead of masking them again: a max pool's
   * gradient when the pool reads ReLU outputs, masked at the (smaller) pooled tensor.
   */
  readonly preMasked = new Set<string>();

  constructor(
    readonly opset: number,
    readonly fresh: (base: string) => string,
    private readonly shapes: Map<string, Dim[]>,
    private readonly values: Map<string, Dim[]> = new Map(),
    /** The forward graph's node producing each tensor. */
    private readonly producers: Map<string, NodeProto> = new Map(),
  ) {}

  /** Whether a forward tensor is a ReLU output, or a Concat of such (never negative). */
  rectified(name: string): boolean {
    const n = this.producers.get(name);
    return n?.opType === 'Relu' || (n?.opType === 'Concat' && (n.input ?? []).every((i) => this.rectified(i)));
  }

  /** Values of a constant integer tensor (axes, pads, starts, split sizes): initializer or Constant. */
  constInts(name: string, what: string, node: NodeProto): number[] {
    const v = this.values.get(name);
    if (!v || !v.every((d) => typeof d === 'number')) {
      throw new FoolError('UNSUPPORTED', `the ${what} of ${node.opType} node ${node.name || node.output![0]} are computed at run time`, 'Export the model with constant (folded) shapes, e.g. torch.onnx.export(..., do_constant_folding=True)');
    }
    return v as number[];
  }

  /**
   * Splits, along channels, a gradient that a Conv emitted here produced and nothing else reads
   * (a rule's dy is read by that rule only): one Conv per part with the matching output channels
   * of the weight, instead of a Split of the whole output. Same products and sums per channel;
   * onnxruntime keeps Conv in its blocked layout, where a Split would reorder the tensor to NCHW
   * and back. Undefined where the producer is not such a Conv (group 1, no bias).
   */
  splitConvOutput(dy: string, sizes: number[]): string[] | undefined {
    const at = this.nodes.findIndex((n) => n.output?.[0] === dy);
    const conv = this.nodes[at];
    if (at < 0 || conv.opType !== 'Conv' || (conv.input ?? []).length > 2) return undefined;
    if ((conv.attribute ?? []).some((a) => a.name === 'group' && Number(a.i ?? 1) !== 1)) return undefined;
    if (this.nodes.some((n, i) => i !== at && (n.input ?? []).includes(dy))) return undefined;
    const [x, w] = conv.input!;
    const outs: string[] = [];
    const split = this.emitN('Split', [w, this.ints(sizes)], sizes.length, { axis: 0 });
    for (const part of split) {
      const y = this.fresh('grad_conv');
      this.nodes.push(makeNode('Conv', [x, part], [y], {}));
      this.nodes[this.nodes.length - 1].attribute = conv.attribute;
      outs.push(y);
    }
    this.nodes.splice(at, 1);
    return outs;
  }

  /** Whether a gradient is a Conv's output emitted here, or a Sum/Add/Mul of such (layout hints). */
  fromConv(name: string): boolean {
    const n = this.nodes.find((m) => m.output?.[0] === name);
    if (!n) return false;
    if (n.opType === 'Conv') return true;
    const blockedMask = (i: string) => this.nodes.some((m) => m.output?.[0] === i && m.opType === 'HardSigmoid');
    return ['Sum', 'Add', 'Mul'].includes(n.opType ?? '') && (n.input ?? []).every((i) => this.fromConv(i) || blockedMask(i));
  }

  /** Zeros of another tensor's runtime shape (a gradient that is known to vanish). */
  zerosLike(like: string): string {
    return this.emit('ConstantOfShape', [this.emit('Shape', [like])]);
  }

  shape(name: string): Dim[] {
    const s = this.shapes.get(name);
    if (!s) throw new FoolError('UNSUPPORTED', `the shape of tensor ${name} could not be inferred`, 'Gradients need static shapes apart from the batch');
    return s;
  }

  /** Shape without the batch dimension, which must be the only symbolic one. */
  staticDims(name: string, from = 1): number[] {
    const s = this.shape(name).slice(from);
    if (!s.every((d) => typeof d === 'number')) throw new FoolError('UNSUPPORTED', `tensor ${name} has symbolic dimensions ${JSON.stringify(s)}`, 'Only the batch dimension may be dynamic');
    return s as number[];
  }

  emit(op: string, inputs: string[], attrs: Attrs = {}, base = op.toLowerCase()): string {
    return this.emitN(op, inputs, 1, attrs, base)[0];
  }

  emitN(op: string, inputs: string[], n: number, attrs: Attrs = {}, base = op.toLowerCase()): string[] {
    const outs = Array.from({ length: n }, () => this.fresh(`grad_${base}`));
    this.nodes.push(makeNode(op, inputs, outs, attrs));
    return outs;
  }

  /** A float constant (deduplicated by value for scalars). */
  float(values: ArrayLike<number>, dims: number[] = []): string {
    const key = values.length === 1 ? `f${dims.join('x')}:${values[0]}` : undefined;
    if (key && this.consts.has(key)) return this.consts.get(key)!;
    const name = this.fresh('grad_const');
    this.inits.push(floatTensor(name, values, dims));
    if (key) this.consts.set(key, name);
    return name;
  }

  ints(values: number[]): string {
    const key = `i:${values.join(',')}`;
    if (this.consts.has(key)) return this.consts.get(key)!;
    const name = this.fresh('grad_ints');
    this.inits.push(int64Tensor(name, values));
    this.consts.set(key, name);
    return name;
  }

  reduceSum(x: string, axes: number[], keepdims: boolean): string {
    return this.opset >= 13
      ? this.emit('ReduceSum', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 })
      : this.emit('ReduceSum', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  reduceMean(x: string, axes: number[], keepdims: boolean): string {
    return this.opset >= 18
      ? this.emit('ReduceMean', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 })
      : this.emit('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  /** Reshape to another tensor's runtime shape (keeps the batch dynamic). */
  reshapeLike(x: string, like: string): string {
    return this.emit('Reshape', [x, this.emit('Shape', [like])]);
  }

  /** Sums a gradient of broadcast shape `gDims` back to the shape of operand `target`. */
  unbroadcast(g: string, gDims: Dim[], target: string): string {
    const t = this.shape(target);
    const lead = gDims.length - t.length;
    const axes: number[] = [];
    gDims.forEach((d, i) => {
      if (i < lead || (t[i - lead] === 1 && d !== 1)) axes.push(i);
    });
    if (axes.length === 0 && lead === 0) return g;
    const summed = this.reduceSum(g, axes, true);
    return lead === 0 ? summed : this.reshapeLike(summed, target);
  }
}
