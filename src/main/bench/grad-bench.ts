import * as ort from 'onnxruntime-node';
import { GRAD_WEIGHTS_INPUT, buildGradientModel } from '../core/grad/backward';
import { decodeModel, encodeModel } from '../core/models/onnx-graph';
import { readModelFile } from '../core/models/prepare';
import { makeBatchDynamic } from '../core/models/rewrites';
import { sessionOptions } from '../core/models/provider';
import { SHARED_MODELS, hasShared } from './models';
import { fmt, printTable, rate } from './timing';

/** Input-gradient throughput against the forward pass of the same model, same batch, same threads. */
export async function gradientBench(quick: boolean): Promise<string[]> {
  if (!hasShared()) {
    console.log('gradients: skipped (needs ../shared/models)');
    return [];
  }
  const rows: (string | number)[][] = [['model', 'batch', 'threads', 'forward', 'forward + input gradient', 'gradient cost (x forward)']];
  for (const [name, make, batch] of [
    ['lenet', SHARED_MODELS.lenet, 128],
    ['squeezenet', SHARED_MODELS.squeezenet, 8],
  ] as const) {
    const info = make();
    const m = decodeModel(readModelFile(info.path));
    makeBatchDynamic(m);
    const spec = info.manifest.input;
    const grad = buildGradientModel(m, { output: info.manifest.output.name, outputKind: info.manifest.output.kind, objective: 'log-probability', wrt: [spec.name] });
    const per = spec.channels * spec.height * spec.width;
    const x = new ort.Tensor('float32', Float32Array.from({ length: batch * per }, (_, i) => ((i * 7919) % 255) / 255), [batch, spec.channels, spec.height, spec.width]);
    const K = info.manifest.classes;
    const w = new Float32Array(batch * K);
    for (let i = 0; i < batch; i++) w[i * K + (i % K)] = 1;
    for (const threads of [1, 2]) {
      const f = await ort.InferenceSession.create(encodeModel(m), sessionOptions('cpu', threads));
      const b = await ort.InferenceSession.create(encodeModel(grad), sessionOptions('cpu', threads));
      const rf = (await rate(() => f.run({ [spec.name]: x }), quick ? 500 : 2000)) * batch;
      const rb = (await rate(() => b.run({ [spec.name]: x, [GRAD_WEIGHTS_INPUT]: new ort.Tensor('float32', w, [batch, K]) }), quick ? 500 : 2000)) * batch;
      await f.release();
      await b.release();
      rows.push([name, batch, threads, fmt(rf), fmt(rb), (rf / rb).toFixed(2)]);
      console.error(`  ${name} ${threads} thread(s): forward ${fmt(rf)}, gradient ${fmt(rb)} images/s`);
    }
  }
  return [printTable('Input gradients, images/s (objective log-probability)', rows)];
}
