import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataType, decodeModel, encodeModel, onnx } from '../src/main/core/models/onnx-graph';

/** The LeNet that ships with the project (resources/models), trained by `fool train lenet`. */
export const SHIPPED_LENET = resolve(__dirname, '../resources/models/lenet-mnist.onnx');

/**
 * A grey MNIST classifier that takes its input the usual PyTorch way, x = (p/255 - 0.1307)/0.3081,
 * and returns raw logits: the shipped LeNet (which takes p/256) behind x -> x*0.3081 + 0.1307
 * (= p/255), x -> x*255/256 (= p/256), with its final Softmax removed. So it classifies exactly as
 * the shipped model does when fed the torch normalisation, and wrongly when fed anything else.
 * (Built here until the torchvision-style test models of test/torch-style-models.ts exist.)
 */
export function writeNormalisedLenet(dir: string, name = 'torch-lenet.onnx'): string {
  const model = decodeModel(readFileSync(SHIPPED_LENET), SHIPPED_LENET);
  const g = model.graph!;
  const input = g.input!.find((i) => !(g.initializer ?? []).some((t) => t.name === i.name))!;
  const original = input.name!;
  const scalar = (n: string, v: number) => onnx.TensorProto.create({ name: n, dataType: DataType.FLOAT, dims: [], floatData: [v] });
  g.initializer!.push(scalar('norm_std', 0.3081 * (255 / 256)), scalar('norm_mean', 0.1307 * (255 / 256)));
  const scaled = 'x_times_std';
  g.node!.unshift(
    onnx.NodeProto.create({ opType: 'Mul', input: ['x', 'norm_std'], output: [scaled], name: 'unnormalise_mul' }),
    onnx.NodeProto.create({ opType: 'Add', input: [scaled, 'norm_mean'], output: [original], name: 'unnormalise_add' }),
  );
  input.name = 'x';
  // Raw logits, as a torch export has them: drop the final Softmax.
  const softmax = g.node!.findIndex((n) => n.opType === 'Softmax' && n.output![0] === g.output![0].name);
  if (softmax >= 0) {
    const logits = g.node![softmax].input![0];
    g.node!.splice(softmax, 1);
    g.output![0].name = logits;
  }
  const out = join(dir, name);
  writeFileSync(out, encodeModel(model));
  return out;
}
