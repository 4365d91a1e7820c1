import * as ort from 'onnxruntime-node';
import { encodeModel } from '../core/models/onnx-graph';
import { rewriteLrn } from '../core/models/rewrites';
import { sessionOptions } from '../core/models/provider';
import { alexnetShaped } from './alexnet';
import { fmt, printTable, rate } from './timing';

export async function lrnBench(quick: boolean): Promise<string[]> {
  const batch = 32;
  const builtIn = encodeModel(alexnetShaped());
  const m = alexnetShaped();
  rewriteLrn(m);
  const rewritten = encodeModel(m);
  const input = new Float32Array(batch * 3 * 227 * 227).map((_, i) => ((i * 7919) % 255) - 117);
  const rows: (string | number)[][] = [['AlexNet-shaped, batch 32', 'built-in LRN', 'LRN via AveragePool', 'gain']];
  for (const threads of [1, 2]) {
    const r: number[] = [];
    for (const bytes of [builtIn, rewritten]) {
      const s = await ort.InferenceSession.create(bytes, sessionOptions('cpu', threads));
      const feeds = { data: new ort.Tensor('float32', input, [batch, 3, 227, 227]) };
      r.push((await rate(() => s.run(feeds), quick ? 1000 : 4000, 2)) * batch);
      await s.release();
    }
    rows.push([`${threads} thread${threads > 1 ? 's' : ''}`, fmt(r[0]), fmt(r[1]), `${(r[1] / r[0]).toFixed(2)}x`]);
    console.error(`  LRN ${threads} threads: ${fmt(r[0])} -> ${fmt(r[1])} images/s`);
  }
  return [printTable('LRN rewrite, images/s (random weights; speed does not depend on them)', rows)];
}
