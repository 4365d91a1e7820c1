import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type ModelProto,
  type NodeProto,
  type TensorProto,
  encodeModel,
  decodeModel,
  floatTensor,
  floatValues,
  int64Tensor,
  makeNode,
  onnx,
  toNumber,
  valueInfo,
} from '../src/main/core/models/onnx-graph';
import { loadMnist } from '../src/main/core/data/mnist';
import { rng } from './helpers';

/**
 * Classifiers built the way torchvision exports them (torch.onnx.export of an nn.Module): input
 * named "input", BatchNorm in inference form after bias-free convs, global pooling as ReduceMean
 * (x.mean([2, 3])) or GlobalAveragePool, ReLU6 as Clip(0, 6) with bound inputs, Linear as Gemm
 * with transB = 1, raw logits named "logits". Built in code so the tests need no files.
 */

export const SHIPPED_LENET = resolve(__dirname, '../resources/models/lenet-mnist.onnx');

/** The usual PyTorch MNIST normalisation, x = (p/255 - 0.1307) / 0.3081, as manifest fields. */
export const TORCH_MNIST_INPUT = { scale: 1 / 255, mean: [0.1307], std: [0.3081] } as const;

type Init = [string, ArrayLike<number>, number[]];

function model(nodes: NodeProto[], inits: TensorProto[], input: number[], classes: number, opset: number): ModelProto {
  return onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'pytorch',
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'main_graph',
      node: nodes,
      input: [valueInfo('input', ['N', ...input])],
      output: [valueInfo('logits', ['N', classes])],
      initializer: inits,
    },
  });
}

/** Seeded weights: He-style scale for convs and linears, BatchNorm with non-trivial statistics. */
function weights(seed: number) {
  const rand = rng(seed);
  const inits: TensorProto[] = [];
  const add = ([name, v, dims]: Init) => {
    inits.push(floatTensor(name, v, dims));
    return name;
  };
  const normal = (n: number, std: number) =>
    Float32Array.from({ length: n }, () => std * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()));
  const conv = (name: string, o: number, cg: number, k: number) => add([name, normal(o * cg * k * k, Math.sqrt(2 / (cg * k * k))), [o, cg, k, k]]);
  const bn = (name: string, c: number): string[] => [
    add([`${name}.weight`, Float32Array.from({ length: c }, () => 0.5 + rand()), [c]]),
    add([`${name}.bias`, Float32Array.from({ length: c }, () => 0.2 * (rand() - 0.5)), [c]]),
    add([`${name}.running_mean`, Float32Array.from({ length: c }, () => 0.4 * (rand() - 0.5)), [c]]),
    add([`${name}.running_var`, Float32Array.from({ length: c }, () => 0.5 + rand()), [c]]),
  ];
  const linear = (name: string, out: number, inp: number) => [add([`${name}.weight`, normal(out * inp, Math.sqrt(1 / inp)), [out, inp]]), add([`${name}.bias`, normal(out, 0.1), [out]])];
  return { inits, add, conv, bn, linear };
}

/**
 * A ResNet basic block as torchvision's resnet18 exports it: stem conv-BN-ReLU, then
 * conv3x3-BN-ReLU-conv3x3-BN, the identity added, ReLU, x.mean([2, 3]) as ReduceMean, fc.
 * Input [N, 3, size, size]; `opset` 18 gives ReduceMean its axes as an input.
 */
export function resnetBlock(opts: { channels?: number; size?: number; classes?: number; opset?: number; seed?: number } = {}): ModelProto {
  const { channels: c = 4, size = 6, classes = 5, opset = 13, seed = 11 } = opts;
  const w = weights(seed);
  const bnNode = (x: string, name: string, y: string) => makeNode('BatchNormalization', [x, ...w.bn(name, c)], [y], { epsilon: { float: 1e-5 }, momentum: { float: 0.9 } }, name);
  const nodes = [
    makeNode('Conv', ['input', w.conv('conv1.weight', c, 3, 3)], ['stem'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] }, '/conv1/Conv'),
    bnNode('stem', 'bn1', 'stem_bn'),
    makeNode('Relu', ['stem_bn'], ['x0'], {}, '/relu/Relu'),
    makeNode('Conv', ['x0', w.conv('layer1.0.conv1.weight', c, c, 3)], ['b1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, '/layer1/layer1.0/conv1/Conv'),
    bnNode('b1', 'layer1.0.bn1', 'b1_bn'),
    makeNode('Relu', ['b1_bn'], ['b1_r'], {}, '/layer1/layer1.0/relu/Relu'),
    makeNode('Conv', ['b1_r', w.conv('layer1.0.conv2.weight', c, c, 3)], ['b2'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, '/layer1/layer1.0/conv2/Conv'),
    bnNode('b2', 'layer1.0.bn2', 'b2_bn'),
    makeNode('Add', ['b2_bn', 'x0'], ['sum'], {}, '/layer1/layer1.0/Add'),
    makeNode('Relu', ['sum'], ['x1'], {}, '/layer1/layer1.0/relu_1/Relu'),
    ...(opset >= 18
      ? [makeNode('ReduceMean', ['x1', 'pool_axes'], ['pooled'], { keepdims: 0 }, '/ReduceMean')]
      : [makeNode('ReduceMean', ['x1'], ['pooled'], { axes: [2, 3], keepdims: 0 }, '/ReduceMean')]),
    makeNode('Gemm', ['pooled', ...w.linear('fc', classes, c)], ['logits'], { alpha: { float: 1 }, beta: { float: 1 }, transB: 1 }, '/fc/Gemm'),
  ];
  if (opset >= 18) w.inits.push(int64Tensor('pool_axes', [2, 3]));
  return model(nodes, w.inits, [3, size, size], classes, opset);
}

/** Clip(0, 6) with its bounds as Constant inputs, as torch.onnx exports nn.ReLU6 (opset >= 11). */
function relu6(x: string, y: string, name: string): NodeProto[] {
  const konst = (out: string, v: number) => {
    const n = makeNode('Constant', [], [out], {}, `${name}_${out}`);
    n.attribute = [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: floatTensor(out, [v], []) }];
    return n;
  };
  return [konst(`${y}_min`, 0), konst(`${y}_max`, 6), makeNode('Clip', [x, `${y}_min`, `${y}_max`], [y], {}, name)];
}

/**
 * A MobileNet v2 inverted residual block as torchvision exports it: 1x1 expand conv-BN-ReLU6,
 * 3x3 depthwise conv-BN-ReLU6, 1x1 project conv-BN, the input added; then global average pooling
 * (GlobalAveragePool + Flatten, as nn.AdaptiveAvgPool2d exports) and the classifier Gemm.
 */
export function mobilenetBlock(opts: { channels?: number; expand?: number; size?: number; classes?: number; seed?: number } = {}): ModelProto {
  const { channels: c = 4, expand = 3, size = 6, classes = 5, seed = 12 } = opts;
  const e = c * expand;
  const w = weights(seed);
  const bnNode = (x: string, name: string, ch: number, y: string) => makeNode('BatchNormalization', [x, ...w.bn(name, ch)], [y], { epsilon: { float: 1e-5 } }, name);
  const nodes = [
    makeNode('Conv', ['input', w.conv('features.0.weight', c, 3, 3)], ['s'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, '/features/0/Conv'),
    bnNode('s', 'features.0.bn', c, 's_bn'),
    ...relu6('s_bn', 'x0', '/features/0/Clip'),
    makeNode('Conv', ['x0', w.conv('features.1.conv.0.weight', e, c, 1)], ['ex'], { kernel_shape: [1, 1] }, '/features/1/conv/0/Conv'),
    bnNode('ex', 'features.1.conv.1', e, 'ex_bn'),
    ...relu6('ex_bn', 'ex_r', '/features/1/conv/2/Clip'),
    makeNode('Conv', ['ex_r', w.conv('features.1.conv.3.weight', e, 1, 3)], ['dw'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: e }, '/features/1/conv/3/Conv'),
    bnNode('dw', 'features.1.conv.4', e, 'dw_bn'),
    ...relu6('dw_bn', 'dw_r', '/features/1/conv/5/Clip'),
    makeNode('Conv', ['dw_r', w.conv('features.1.conv.6.weight', c, e, 1)], ['pr'], { kernel_shape: [1, 1] }, '/features/1/conv/6/Conv'),
    bnNode('pr', 'features.1.conv.7', c, 'pr_bn'),
    makeNode('Add', ['x0', 'pr_bn'], ['x1'], {}, '/features/1/Add'),
    makeNode('GlobalAveragePool', ['x1'], ['gap'], {}, '/GlobalAveragePool'),
    makeNode('Flatten', ['gap'], ['flat'], { axis: 1 }, '/Flatten'),
    makeNode('Gemm', ['flat', ...w.linear('classifier.1', classes, c)], ['logits'], { alpha: { float: 1 }, beta: { float: 1 }, transB: 1 }, '/classifier/classifier.1/Gemm'),
  ];
  return model(nodes, w.inits, [3, size, size], classes, 13);
}

/**
 * A torchvision-style MNIST classifier derived exactly from the shipped LeNet (which takes p/256,
 * Caffe's scale, and scores 99.15% on MNIST test), so it is trained without training anything:
 * - the input is normalised the PyTorch way, x = (p/255 - 0.1307)/0.3081: conv1 absorbs the
 *   affine map back to p/256 (its weights scaled, its bias shifted by the constant's response);
 * - a BatchNorm after conv1 with the real statistics of conv1's outputs over 1,000 training
 *   digits and non-trivial scale/shift; max pooling commutes with its positive per-channel affine
 *   map, so conv2 undoes it (weights divided by the scale, bias shifted);
 * - the first fully connected layer (800 -> 500) as a 4x4 conv to a 1x1 map, then x.mean([2, 3])
 *   as ReduceMean (axes as an attribute at opset 13, as an input at opset 18), ReLU;
 * - the last layer as Gemm with transB = 1; raw logits, no softmax.
 * Fed the PyTorch normalisation it classifies as LeNet does (99.15%); fed p/256 (the mnist
 * preset) it sees fainter digits on a grey background and scores less (97.4%).
 */
export function torchMnistModel(opts: { opset?: number; statsImages?: number } = {}): ModelProto {
  const { opset = 13, statsImages = 1000 } = opts;
  const lenet = decodeModel(readFileSync(SHIPPED_LENET), SHIPPED_LENET);
  const get = (name: string) => {
    const t = lenet.graph!.initializer!.find((i) => i.name === name)!;
    return { v: floatValues(t), dims: (t.dims ?? []).map(toNumber) };
  };
  const [w1, b1, w2, b2, f1, fb1, f2, fb2] = ['conv1_W', 'conv1_b', 'conv2_W', 'conv2_b', 'ip1_W', 'ip1_b', 'ip2_W', 'ip2_b'].map(get);

  // conv1 on x: p/256 = a x + b.
  const { scale, mean: [mu], std: [sd] } = TORCH_MNIST_INPUT;
  const a = (sd / scale) / 256;
  const b = (mu / scale) / 256;
  const C1 = 20;
  const K1 = 25;
  const w1n = Float64Array.from(w1.v, (v) => v * a);
  const b1n = Float64Array.from({ length: C1 }, (_, o) => b1.v[o] + b * w1.v.slice(o * K1, (o + 1) * K1).reduce((s, v) => s + v, 0));

  // Real statistics of conv1's outputs (24x24 valid positions) over the first training digits.
  const train = loadMnist('train');
  const sum = new Float64Array(C1);
  const sum2 = new Float64Array(C1);
  const n = Math.min(statsImages, train.n);
  for (let i = 0; i < n; i++) {
    const img = train.images.subarray(i * 784, (i + 1) * 784);
    const x = Float64Array.from(img, (p) => (p * scale - mu) / sd);
    for (let o = 0; o < C1; o++)
      for (let y = 0; y < 24; y++)
        for (let xx = 0; xx < 24; xx++) {
          let acc = b1n[o];
          for (let ky = 0; ky < 5; ky++) for (let kx = 0; kx < 5; kx++) acc += w1n[o * K1 + ky * 5 + kx] * x[(y + ky) * 28 + xx + kx];
          sum[o] += acc;
          sum2[o] += acc * acc;
        }
  }
  const count = n * 576;
  const runMean = Float32Array.from(sum, (s) => s / count);
  const runVar = Float32Array.from(sum2, (s2, o) => s2 / count - (sum[o] / count) ** 2);
  const eps = 1e-5;
  const gamma = Float32Array.from({ length: C1 }, (_, o) => 0.5 + 0.25 * (o % 5));
  const beta = Float32Array.from({ length: C1 }, (_, o) => 0.1 * ((o % 3) - 1));
  // BN(z) = alpha z + shift, alpha > 0 per channel; max pooling commutes with it.
  const alpha = Float64Array.from(gamma, (g, o) => g / Math.sqrt(runVar[o] + eps));
  const shift = Float64Array.from(beta, (bt, o) => bt - alpha[o] * runMean[o]);

  // conv2 undoes the BN: W2' = W2 / alpha_c, b2' = b2 - sum W2 shift_c / alpha_c.
  const [C2, , K2h, K2w] = w2.dims;
  const K2 = K2h * K2w;
  const w2n = Float32Array.from(w2.v, (v, i) => v / alpha[Math.floor(i / K2) % C1]);
  const b2n = Float32Array.from({ length: C2 }, (_, o) => {
    let s = b2.v[o];
    for (let c = 0; c < C1; c++) for (let k = 0; k < K2; k++) s -= (w2.v[(o * C1 + c) * K2 + k] * shift[c]) / alpha[c];
    return s;
  });

  // ip1 [800, 500] over the flattened [50, 4, 4] map -> a 4x4 conv weight [500, 50, 4, 4].
  const [F, H1] = f1.dims;
  const fc1 = new Float32Array(H1 * F);
  for (let o = 0; o < H1; o++) for (let j = 0; j < F; j++) fc1[o * F + j] = f1.v[j * H1 + o];
  // ip2 [500, 10] -> Linear weight [10, 500] (Gemm transB = 1).
  const [, K] = f2.dims;
  const fc2 = new Float32Array(K * H1);
  for (let o = 0; o < K; o++) for (let j = 0; j < H1; j++) fc2[o * H1 + j] = f2.v[j * K + o];

  const inits = [
    floatTensor('conv1.weight', w1n, [C1, 1, 5, 5]),
    floatTensor('conv1.bias', b1n, [C1]),
    floatTensor('bn1.weight', gamma, [C1]),
    floatTensor('bn1.bias', beta, [C1]),
    floatTensor('bn1.running_mean', runMean, [C1]),
    floatTensor('bn1.running_var', runVar, [C1]),
    floatTensor('conv2.weight', w2n, w2.dims),
    floatTensor('conv2.bias', b2n, [C2]),
    floatTensor('fc1.weight', fc1, [H1, C2, 4, 4]),
    floatTensor('fc1.bias', fb1.v, [H1]),
    floatTensor('fc2.weight', fc2, [K, H1]),
    floatTensor('fc2.bias', fb2.v, [K]),
    ...(opset >= 18 ? [int64Tensor('pool_axes', [2, 3])] : []),
  ];
  const nodes = [
    makeNode('Conv', ['input', 'conv1.weight', 'conv1.bias'], ['c1'], { kernel_shape: [5, 5], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 }, '/conv1/Conv'),
    makeNode('BatchNormalization', ['c1', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var'], ['c1_bn'], { epsilon: { float: eps }, momentum: { float: 0.9 } }, '/bn1/BatchNormalization'),
    makeNode('MaxPool', ['c1_bn'], ['p1'], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceil_mode: 0 }, '/pool1/MaxPool'),
    makeNode('Conv', ['p1', 'conv2.weight', 'conv2.bias'], ['c2'], { kernel_shape: [5, 5], strides: [1, 1] }, '/conv2/Conv'),
    makeNode('MaxPool', ['c2'], ['p2'], { kernel_shape: [2, 2], strides: [2, 2] }, '/pool2/MaxPool'),
    makeNode('Conv', ['p2', 'fc1.weight', 'fc1.bias'], ['f1'], { kernel_shape: [4, 4] }, '/fc1/Conv'),
    opset >= 18
      ? makeNode('ReduceMean', ['f1', 'pool_axes'], ['pooled'], { keepdims: 0 }, '/ReduceMean')
      : makeNode('ReduceMean', ['f1'], ['pooled'], { axes: [2, 3], keepdims: 0 }, '/ReduceMean'),
    makeNode('Relu', ['pooled'], ['h'], {}, '/relu/Relu'),
    makeNode('Gemm', ['h', 'fc2.weight', 'fc2.bias'], ['logits'], { alpha: { float: 1 }, beta: { float: 1 }, transB: 1 }, '/fc2/Gemm'),
  ];
  return model(nodes, inits, [1, 28, 28], K, opset);
}

/** Writes torchMnistModel to DIR/NAME (default torch-mnist-opsetN.onnx) and returns its path. */
export function writeTorchMnist(dir: string, opts: { opset?: number; name?: string } = {}): string {
  const path = join(dir, opts.name ?? `torch-mnist-opset${opts.opset ?? 13}.onnx`);
  writeFileSync(path, encodeModel(torchMnistModel(opts)));
  return path;
}
