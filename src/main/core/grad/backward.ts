import {
  type Dim,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  DataType,
  attr,
  attrInt,
  attrInts,
  decodeModel,
  defaultOpset,
  encodeModel,
  initializerNames,
  makeNode,
  onnx,
  runtimeInputs,
  toNumber,
  uniqueNamer,
  valueInfo,
} from '../models/onnx-graph';
import { BATCH_DIM, rewriteLrn } from '../models/rewrites';
import { FoolError } from '../../../shared/errors';
import { GradContext } from './context';
import { NON_DIFFERENTIABLE, RULES, supportedOps } from './rules';
import { inferShapes } from './shapes';

/**
 * Builds, from a classifier's ONNX graph, one graph that computes the forward pass, a per-sample
 * objective and its gradient with respect to the input and/or weights: reverse-mode
 * differentiation written out as ordinary forward ONNX ops, so onnxruntime runs it at full speed.
 */

export type Objective = 'probability' | 'log-probability' | 'logit';
export interface GradientGraphOptions {
  /** Name of the model output to use: a softmax probability output or raw logits. */
  output: string;
  outputKind: 'probabilities' | 'logits';
  objective: Objective;
  /** Names to differentiate with respect to: the runtime input name and/or initializer names.
   *  Initializers named here become graph inputs (so a trainer can feed new weights each step). */
  wrt: string[];
}

export const GRAD_WEIGHTS_INPUT = 'objective_weights';
export const PROBS_OUTPUT = 'probs';
export const OBJECTIVE_OUTPUT = 'objective';
export function gradOutputName(wrt: string): string {
  return `grad__${wrt}`;
}

/** ScatterElements needs reduction='add' (opset 16) for overlapping max-pool windows. */
const MIN_OPSET = 16;

export function buildGradientModel(model: ModelProto, opts: GradientGraphOptions): ModelProto {
  const m = decodeModel(encodeModel(model));
  const g = m.graph!;
  const srcOpset = defaultOpset(m);
  if ((g.node ?? []).some((n) => n.opType === 'LRN')) rewriteLrn(m); // differentiate its elementary ops
  const opset = Math.max(srcOpset, MIN_OPSET);
  g.node = upgradeNodes(g.node ?? [], srcOpset, opts.output);
  m.opsetImport = [...(m.opsetImport ?? []).filter((o) => o.domain && o.domain !== 'ai.onnx'), { domain: '', version: opset }];
  m.irVersion = Math.max(toNumber(m.irVersion), 8);

  const fresh = uniqueNamer(g);
  for (const reserved of [GRAD_WEIGHTS_INPUT, PROBS_OUTPUT, OBJECTIVE_OUTPUT, ...opts.wrt.map(gradOutputName)]) {
    if (fresh(reserved) !== reserved) throw new FoolError('BAD_MODEL', `the model already has a tensor named ${reserved}`, 'Rename it');
  }
  const producer = new Map<string, NodeProto>();
  for (const n of g.node ?? []) for (const o of n.output ?? []) producer.set(o, n);

  // Logits z: the Softmax's input, or the named output itself.
  let z = opts.output;
  if (opts.outputKind === 'probabilities') {
    const sm = producer.get(opts.output);
    if (sm?.opType !== 'Softmax') throw new FoolError('BAD_MODEL', `output ${opts.output} is not produced by a Softmax node (${sm?.opType ?? 'none'})`, "Pass the logits output with outputKind 'logits'");
    z = sm.input![0];
    checkSoftmaxAxis(sm, inferShapes(g, opset).shapes.get(z), srcOpset);
  } else if (!producer.has(z) && !runtimeInputs(g).some((i) => i.name === z)) {
    throw new FoolError('NOT_FOUND', `the model has no tensor named ${z}`, 'Pass one of its outputs');
  }

  // Keep only what z depends on: drops the final Softmax and anything after the logits.
  const needed = new Set([z]);
  const kept: NodeProto[] = [];
  for (const n of [...(g.node ?? [])].reverse()) {
    if (!(n.output ?? []).some((o) => needed.has(o))) continue;
    kept.unshift(n);
    for (const i of n.input ?? []) if (i) needed.add(i);
  }
  g.node = kept;
  // Initializers named in wrt become (overridable) inputs; their stored values stay as defaults.
  const inits = initializerNames(g);
  const runtime = new Set(runtimeInputs(g).map((i) => i.name ?? ''));
  for (const w of opts.wrt) {
    if (inits.has(w)) {
      const t = g.initializer!.find((i) => i.name === w)!;
      if (!(g.input ?? []).some((i) => i.name === w)) g.input!.push(valueInfo(w, (t.dims ?? []).map(toNumber)));
    } else if (!runtime.has(w)) throw new FoolError('NOT_FOUND', `${w} is neither an input nor a weight of the model`, 'Pass the input name or initializer names');
  }

  // Which tensors carry gradient: forward from wrt through differentiable ops.
  const live = new Set(opts.wrt);
  for (const n of g.node) {
    if (NON_DIFFERENTIABLE.has(n.opType ?? '') || !(n.input ?? []).some((i) => live.has(i))) continue;
    // Secondary outputs (Dropout mask, MaxPool indices) are not differentiable; Split's all are.
    for (const o of n.opType === 'Split' ? n.output! : [n.output![0]]) live.add(o);
  }

  for (const n of g.node) {
    if (!NON_DIFFERENTIABLE.has(n.opType ?? '') && (n.input ?? []).some((i) => live.has(i)) && !RULES[n.opType ?? '']) {
      throw new FoolError('UNSUPPORTED', `operator ${n.opType} (node ${n.name || n.output![0]}) has no gradient rule`, supportedOps());
    }
  }

  let { shapes, values } = inferShapes(g, opset);
  const zDims = shapes.get(z);
  if (!zDims) throw new FoolError('UNSUPPORTED', `the shape of ${z} could not be inferred`, 'Gradients need static shapes apart from the batch');
  if (zDims.length !== 2) {
    const flat = fresh(`${z}_flat`);
    g.node.push(makeNode('Flatten', [z], [flat], { axis: 1 }));
    z = flat;
    ({ shapes, values } = inferShapes(g, opset));
  }
  const classes = shapes.get(z)![1];
  if (typeof classes !== 'number') throw new FoolError('UNSUPPORTED', `the number of classes of ${z} is not static`);

  const c = new GradContext(opset, fresh, shapes, values, producer);
  const W = GRAD_WEIGHTS_INPUT;
  const probs = PROBS_OUTPUT;
  c.nodes.push(makeNode('Softmax', [z], [probs], { axis: 1 }));
  let f: string;
  let dz: string;
  if (opts.objective === 'logit') {
    f = z;
    dz = W;
  } else if (opts.objective === 'log-probability') {
    // LogSoftmax is z - logsumexp(z), stable for tiny probabilities. dJ/dz = W - p * sum_k W.
    f = c.emit('LogSoftmax', [z], { axis: 1 });
    dz = c.emit('Sub', [W, c.emit('Mul', [probs, c.reduceSum(W, [1], true)])]);
  } else {
    // dJ/dz = p * (W - sum_k W p).
    f = probs;
    const wp = c.emit('Mul', [W, probs]);
    dz = c.emit('Mul', [probs, c.emit('Sub', [W, c.reduceSum(wp, [1], true)])]);
  }
  c.nodes.push(makeNode('ReduceSum', [c.emit('Mul', [W, f]), c.ints([1])], [OBJECTIVE_OUTPUT], { keepdims: 0 }));

  // Reverse sweep. Each tensor's gradient is the sum of its consumers' contributions.
  const contrib = new Map<string, string[]>([[z, [dz]]]);
  // A gradient has its tensor's shape. Stated in the graph, it lets onnxruntime prove that
  // operands match (its blocked layout takes a Mul only then), where Shape-fed Reshapes and
  // Expands would leave the shapes it infers unknown.
  const gradShapes = new Map<string, Dim[]>();
  const total = (name: string): string | undefined => {
    const parts = contrib.get(name);
    if (!parts || parts.length === 0) return undefined;
    const sum = parts.length === 1 ? parts[0] : c.emit('Sum', parts);
    contrib.set(name, [sum]);
    const dims = shapes.get(name);
    if (dims) gradShapes.set(sum, dims);
    return sum;
  };
  for (const n of [...g.node].reverse()) {
    const need = (n.input ?? []).map((i) => live.has(i));
    if (!need.some(Boolean) || NON_DIFFERENTIABLE.has(n.opType ?? '')) continue;
    const dy = (n.output ?? []).map((o) => total(o) ?? '');
    if (!dy.some(Boolean)) continue;
    const grads = RULES[n.opType ?? ''](n, dy, need, c);
    grads.forEach((gi, i) => {
      if (!gi || !need[i]) return;
      contrib.set(n.input![i], [...(contrib.get(n.input![i]) ?? []), gi]);
      const dims = shapes.get(n.input![i]);
      if (dims) gradShapes.set(gi, dims);
    });
  }

  const outputs = [valueInfo(PROBS_OUTPUT, [BATCH_DIM, classes]), valueInfo(OBJECTIVE_OUTPUT, [BATCH_DIM])];
  for (const w of opts.wrt) {
    const grad = total(w) ?? c.emit('ConstantOfShape', [c.emit('Shape', [w])]); // w does not reach z
    c.nodes.push(makeNode('Identity', [grad], [gradOutputName(w)]));
    outputs.push(valueInfo(gradOutputName(w), shapes.get(w) ?? []));
  }
  g.node.push(...c.nodes);
  g.initializer = [...(g.initializer ?? []), ...c.inits];
  g.input = [...(g.input ?? []), valueInfo(W, [BATCH_DIM, classes])];
  g.output = outputs;
  const stated = new Set([...(g.input ?? []), ...outputs].map((v) => v.name));
  g.valueInfo = [...gradShapes].filter(([name]) => !stated.has(name)).map(([name, dims]) => valueInfo(name, dims));
  return m;
}

/**
 * Softmax before opset 13 flattens to 2-D at `axis`; from 13 it runs along one axis. Either way
 * we need one class axis after the batch: z flattened to [N, K].
 */
function checkSoftmaxAxis(sm: NodeProto, dims: Dim[] | undefined, srcOpset: number) {
  if (!dims) return;
  const rank = dims.length;
  const a = attrInt(sm, 'axis', srcOpset >= 13 ? -1 : 1);
  const axis = a < 0 ? a + rank : a;
  const ok = srcOpset < 13 ? axis === 1 : dims.every((d, i) => i === 0 || i === axis || d === 1);
  if (!ok || axis === 0) throw new FoolError('UNSUPPORTED', `softmax over axis ${a} of a ${rank}-D tensor (node ${sm.name})`, 'The softmax must run over the classes of each sample');
}

/**
 * Rewrites forward nodes whose form changed between the model's opset and ours (at least 16):
 * attributes that became inputs, Dropout, and old Softmax's 2-D coercion.
 */
function upgradeNodes(nodes: NodeProto[], srcOpset: number, output: string): NodeProto[] {
  const T = onnx.AttributeProto.AttributeType;
  const out: NodeProto[] = [];
  const constant = (name: string, t: TensorProto) => {
    const node = makeNode('Constant', [], [name]);
    node.attribute = [{ name: 'value', type: T.TENSOR, t }];
    out.push(node);
    return name;
  };
  const ints = (name: string, v: number[]) => constant(name, { dims: [v.length], dataType: DataType.INT64, int64Data: v });
  /** Moves int-list attributes to inputs (in order; '' for an absent optional one) and drops them. */
  const toInputs = (n: NodeProto, names: string[]) => {
    const y = n.output![0];
    const moved = names.map((a) => attrInts(n, a));
    n.attribute = (n.attribute ?? []).filter((a) => !names.includes(a.name ?? ''));
    const extra = moved.map((v, i) => (v ? ints(`${y}__${names[i]}`, v) : ''));
    while (extra.length && !extra[extra.length - 1]) extra.pop();
    n.input = [n.input![0], ...extra];
  };
  for (const n of nodes) {
    const op = n.opType;
    const y = n.output![0];
    if (op === 'Dropout') {
      // Identity at inference; its attributes differ across opsets.
      Object.assign(n, { opType: 'Identity', input: [n.input![0]], output: [y], attribute: [] });
    } else if ((op === 'Unsqueeze' || op === 'Squeeze' || op === 'ReduceSum') && srcOpset < 13) {
      toInputs(n, ['axes']);
    } else if (op === 'Split' && srcOpset < 13) {
      toInputs(n, ['split']);
    } else if (op === 'Slice' && srcOpset < 10) {
      toInputs(n, ['starts', 'ends', 'axes']);
    } else if (op === 'Pad' && srcOpset < 11) {
      const value = attr(n, 'value')?.f ?? 0;
      toInputs(n, ['pads']);
      n.input!.push(constant(`${y}__value`, { dims: [], dataType: DataType.FLOAT, floatData: [value] }));
      n.attribute = (n.attribute ?? []).filter((a) => a.name === 'mode');
    } else if (op === 'Clip' && srcOpset < 11) {
      const bound = (name: string, dflt: number) =>
        constant(`${y}__${name}`, { dims: [], dataType: DataType.FLOAT, floatData: [attr(n, name)?.f ?? dflt] });
      n.input = [n.input![0], bound('min', -3.4028234663852886e38), bound('max', 3.4028234663852886e38)];
      n.attribute = [];
    } else if (op === 'BatchNormalization') {
      n.attribute = (n.attribute ?? []).filter((a) => a.name === 'epsilon' || a.name === 'momentum');
    } else if ((op === 'Softmax' || op === 'LogSoftmax') && srcOpset < 13) {
      const axis = attrInt(n, 'axis', 1);
      if (y === output) {
        // The classifier's own softmax (dropped later): keep the old default axis explicit.
        n.attribute = [{ name: 'axis', type: T.INT, i: axis }];
      } else {
        // Before opset 13 softmax flattened x to 2-D at axis; say so explicitly.
        const x = n.input![0];
        out.push(makeNode('Flatten', [x], [`${y}__2d`], { axis }));
        out.push(makeNode(op, [`${y}__2d`], [`${y}__sm`], { axis: 1 }));
        out.push(makeNode('Shape', [x], [`${y}__shape`]));
        Object.assign(n, { opType: 'Reshape', input: [`${y}__sm`, `${y}__shape`], attribute: [] });
      }
    }
    out.push(n);
  }
  return out;
}
