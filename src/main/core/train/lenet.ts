import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { FoolError } from '../../../shared/errors';
import {
  DataType,
  floatTensor,
  floatValues,
  makeNode,
  onnx,
  toNumber,
  valueInfo,
  type ModelProto,
  type TensorProto,
} from '../models/onnx-graph';

/**
 * Caffe's MNIST LeNet (examples/mnist/lenet.prototxt) as an ONNX graph, with the same node and
 * tensor names as the shipped lenet-caffe.onnx, so that everything that works on Caffe's model
 * (backward graphs, classification) works on ours alike.
 *
 *   data [N,1,28,28] -> conv1 20@5x5 -> maxpool 2/2 -> conv2 50@5x5 -> maxpool 2/2 -> flatten
 *   -> ip1 500 -> relu -> ip2 K -> softmax -> prob
 *
 * `data` is already preprocessed (pixel * 1/256, as Caffe's `scale: 0.00390625`).
 */
export const LENET_INPUT = 'data';
export const LENET_OUTPUT = 'prob';
/** The logits, before the softmax. */
export const LENET_LOGITS = 'ip2';
export const LENET_SIDE = 28;
export const LENET_PIXELS = LENET_SIDE * LENET_SIDE;
/** Caffe's data layer scale for MNIST. */
export const LENET_SCALE = 0.00390625;

export interface ParamSpec {
  name: string;
  dims: number[];
  /** Inputs feeding one output unit: Caffe's xavier filler draws U(-sqrt(3/fanIn), +sqrt(3/fanIn)). */
  fanIn: number;
  /** Biases: Caffe's lenet_train_test.prototxt gives them lr_mult 2 (weights 1). */
  bias: boolean;
}

/** The learnable tensors, in a fixed order (checkpoints and optimiser state rely on it). */
export function lenetParams(classes: number): ParamSpec[] {
  return [
    { name: 'conv1_W', dims: [20, 1, 5, 5], fanIn: 1 * 5 * 5, bias: false },
    { name: 'conv1_b', dims: [20], fanIn: 0, bias: true },
    { name: 'conv2_W', dims: [50, 20, 5, 5], fanIn: 20 * 5 * 5, bias: false },
    { name: 'conv2_b', dims: [50], fanIn: 0, bias: true },
    // MatMul layout [in, out] (Caffe stores InnerProduct weights as [out, in]).
    { name: 'ip1_W', dims: [800, 500], fanIn: 800, bias: false },
    { name: 'ip1_b', dims: [500], fanIn: 0, bias: true },
    { name: 'ip2_W', dims: [500, classes], fanIn: 500, bias: false },
    { name: 'ip2_b', dims: [classes], fanIn: 0, bias: true },
  ];
}

/** Weights by parameter name. */
export type LenetWeights = Map<string, Float32Array>;

export function sizeOf(dims: number[]): number {
  return dims.reduce((a, d) => a * d, 1);
}

/**
 * Fresh weights as lenet_train_test.prototxt initialises them: xavier (uniform, fan-in) weights,
 * constant 0 biases. The same seed gives the same weights.
 */
export function initLenetWeights(classes: number, seed: number): LenetWeights {
  const rng = xoroshiro128plus(seed);
  const weights: LenetWeights = new Map();
  for (const p of lenetParams(classes)) {
    const w = new Float32Array(sizeOf(p.dims));
    if (!p.bias) {
      const a = Math.sqrt(3 / p.fanIn);
      for (let i = 0; i < w.length; i++) w[i] = (2 * uniformFloat64(rng) - 1) * a;
    }
    weights.set(p.name, w);
  }
  return weights;
}

export interface LenetGraphOptions {
  classes: number;
  /**
   * 'initializers': a normal inference model with the weights baked in (what we ship).
   * 'inputs': the weights are graph inputs, so one session can run with weights that change
   * between calls (test accuracy during training) without being rebuilt.
   */
  weightsAs?: 'initializers' | 'inputs';
  /** Batch dimension: a fixed size or a symbolic name. */
  batch?: number | string;
}

/** The LeNet graph (opset 13) holding `weights`. */
export function buildLenet(weights: LenetWeights, opts: LenetGraphOptions): ModelProto {
  const { classes } = opts;
  const params = lenetParams(classes);
  for (const p of params) {
    const w = weights.get(p.name);
    if (!w || w.length !== sizeOf(p.dims)) {
      throw new FoolError('INTERNAL', `LeNet weight ${p.name} is missing or has the wrong size`);
    }
  }
  const batch = opts.batch ?? 'N';
  const nodes = [
    makeNode('Conv', ['data', 'conv1_W', 'conv1_b'], ['conv1'], { kernel_shape: [5, 5], strides: [1, 1] }),
    makeNode('MaxPool', ['conv1'], ['pool1'], { kernel_shape: [2, 2], strides: [2, 2] }),
    makeNode('Conv', ['pool1', 'conv2_W', 'conv2_b'], ['conv2'], { kernel_shape: [5, 5], strides: [1, 1] }),
    makeNode('MaxPool', ['conv2'], ['pool2'], { kernel_shape: [2, 2], strides: [2, 2] }),
    makeNode('Flatten', ['pool2'], ['flat'], { axis: 1 }),
    makeNode('MatMul', ['flat', 'ip1_W'], ['ip1m']),
    makeNode('Add', ['ip1m', 'ip1_b'], ['ip1']),
    makeNode('Relu', ['ip1'], ['relu1']),
    makeNode('MatMul', ['relu1', 'ip2_W'], ['ip2m']),
    makeNode('Add', ['ip2m', 'ip2_b'], [LENET_LOGITS]),
    makeNode('Softmax', [LENET_LOGITS], [LENET_OUTPUT], { axis: 1 }),
  ];
  const asInputs = opts.weightsAs === 'inputs';
  const graph = onnx.GraphProto.create({
    name: 'LeNet',
    node: nodes,
    input: [
      valueInfo(LENET_INPUT, [batch, 1, LENET_SIDE, LENET_SIDE]),
      ...(asInputs ? params.map((p) => valueInfo(p.name, p.dims)) : []),
    ],
    output: [valueInfo(LENET_OUTPUT, [batch, classes])],
    initializer: asInputs ? [] : params.map((p) => floatTensor(p.name, weights.get(p.name)!, p.dims)),
  });
  return onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'fooling-lab',
    opsetImport: [{ domain: '', version: 13 }],
    graph,
  });
}

/**
 * The weights of a LeNet model (ours or Caffe's lenet-caffe.onnx, which has the same names):
 * `classes` is read from ip2_b.
 */
export function readLenetWeights(model: ModelProto): { classes: number; weights: LenetWeights } {
  const byName = new Map<string, TensorProto>();
  for (const t of model.graph?.initializer ?? []) byName.set(t.name ?? '', t);
  const bias = byName.get('ip2_b');
  if (!bias) throw new FoolError('BAD_MODEL', 'the model is not a LeNet: it has no ip2_b', 'Pass a LeNet made by "fool train lenet"');
  const classes = toNumber((bias.dims ?? [])[0]);
  const weights: LenetWeights = new Map();
  for (const p of lenetParams(classes)) {
    const t = byName.get(p.name);
    const dims = (t?.dims ?? []).map(toNumber);
    if (!t || t.dataType !== DataType.FLOAT || dims.join('x') !== p.dims.join('x')) {
      throw new FoolError('BAD_MODEL', `the model is not a LeNet: ${p.name} should be float [${p.dims.join(', ')}]`);
    }
    weights.set(p.name, floatValues(t));
  }
  return { classes, weights };
}

/** Digit labels, plus the fooling class of the retraining experiment when there are 11 classes. */
export function lenetLabels(classes: number): string[] {
  const labels = Array.from({ length: 10 }, (_, i) => String(i));
  if (classes === 11) labels.push('fooling');
  return labels;
}
