import { DataType, floatTensor, makeNode, onnx, valueInfo, type ModelProto, type NodeProto, type TensorProto } from '../core/models/onnx-graph';

/**
 * An AlexNet-shaped graph (CaffeNet layers and sizes, LRN included) with random weights: speed
 * does not depend on the weights, and the real AlexNet is 240 MB we do not ship.
 */
export function alexnetShaped(seed = 1): ModelProto {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const weight = (name: string, dims: number[], scale: number) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = rand() * scale;
    inits.push(floatTensor(name, v, dims));
    return name;
  };
  let x = 'data';
  let c = 3;
  const conv = (name: string, out: number, k: number, stride: number, pad: number, group: number) => {
    const w = weight(`${name}_w`, [out, c / group, k, k], 2 / Math.sqrt((c / group) * k * k));
    const b = weight(`${name}_b`, [out], 0.1);
    nodes.push(makeNode('Conv', [x, w, b], [name], { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad], group }));
    nodes.push(makeNode('Relu', [name], [`${name}_relu`]));
    x = `${name}_relu`;
    c = out;
  };
  const lrn = (name: string) => {
    nodes.push(makeNode('LRN', [x], [name], { size: 5, alpha: { float: 1e-4 }, beta: { float: 0.75 }, bias: { float: 1 } }));
    x = name;
  };
  const pool = (name: string) => {
    nodes.push(makeNode('MaxPool', [x], [name], { kernel_shape: [3, 3], strides: [2, 2] }));
    x = name;
  };
  conv('conv1', 96, 11, 4, 0, 1);
  pool('pool1');
  lrn('norm1');
  conv('conv2', 256, 5, 1, 2, 2);
  pool('pool2');
  lrn('norm2');
  conv('conv3', 384, 3, 1, 1, 1);
  conv('conv4', 384, 3, 1, 1, 2);
  conv('conv5', 256, 3, 1, 1, 2);
  pool('pool5');
  nodes.push(makeNode('Flatten', [x], ['flat'], { axis: 1 }));
  x = 'flat';
  let width = 256 * 6 * 6;
  const fc = (name: string, out: number, relu: boolean) => {
    const w = weight(`${name}_w`, [width, out], 2 / Math.sqrt(width));
    const b = weight(`${name}_b`, [out], 0.1);
    nodes.push(makeNode('Gemm', [x, w, b], [name]));
    x = name;
    if (relu) {
      nodes.push(makeNode('Relu', [name], [`${name}_relu`]));
      x = `${name}_relu`;
    }
    width = out;
  };
  fc('fc6', 4096, true);
  fc('fc7', 4096, true);
  fc('fc8', 1000, false);
  nodes.push(makeNode('Softmax', [x], ['prob'], { axis: 1 }));
  const graph = onnx.GraphProto.create({
    name: 'alexnet-shaped',
    node: nodes,
    initializer: inits,
    input: [valueInfo('data', ['N', 3, 227, 227])],
    output: [valueInfo('prob', ['N', 1000], DataType.FLOAT)],
  });
  return onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], graph, producerName: 'fooling-lab bench' });
}
