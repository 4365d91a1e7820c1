import { type ModelProto, attrInt, toNumber } from './onnx-graph';

/** onnxruntime's graph optimisation level for a session ('all' adds the blocked NCHWc layout). */
export type GraphLevel = 'all' | 'extended';

export interface GraphLevelChoice {
  level: GraphLevel;
  /** Convolution work the blocked layout adds by padding channels, as a factor (1 = none). */
  padding: number;
  reason: string;
}

/** Channels per block in onnxruntime's NCHWc kernels (16 with AVX-512, 8 with AVX2: the worst case). */
const BLOCK = 16;
/** Above this much padded work, the plain layout wins (LeNet: 1.9x padded, 20-30% slower blocked). */
const MAX_PADDING = 1.25;

const roundUp = (c: number) => Math.ceil(c / BLOCK) * BLOCK;

/**
 * Chooses the optimisation level for the CPU from the model's convolutions. Level 'all' rewrites
 * Conv and MaxPool into onnxruntime's blocked (NCHWc) kernels, which pad input channels (from 8)
 * and output channels to blocks of 16: a win for ImageNet-sized nets whose channel counts are
 * multiples of 16 (SqueezeNet, MobileNet: 'all' measured faster), a loss for small nets with odd
 * widths (Caffe LeNet's 20 and 50 channels: 'extended' measured 20-30% faster forward and ~10%
 * faster forward + input gradient, docs/benchmarks.md). The measure is each Conv's weight size
 * with and without that padding, summed: a cheap stand-in for the multiply-adds, which also scale
 * with the (unknown here) output size.
 */
export function chooseGraphLevel(model: ModelProto): GraphLevelChoice {
  const inits = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', (t.dims ?? []).map(toNumber)]));
  let real = 0;
  let padded = 0;
  for (const n of model.graph?.node ?? []) {
    if (n.opType !== 'Conv') continue;
    const w = inits.get(n.input?.[1] ?? '');
    if (!w || w.length !== 4) continue;
    const [o, cg, kh, kw] = w;
    const group = attrInt(n, 'group', 1);
    real += o * cg * kh * kw;
    // Grouped (depthwise) convolutions keep their channels per group; only output blocks pad.
    const cin = group === 1 && cg >= 8 ? roundUp(cg) : cg;
    padded += roundUp(o) * cin * kh * kw;
  }
  if (real === 0) return { level: 'all', padding: 1, reason: 'no convolutions with static weights' };
  const padding = padded / real;
  return padding > MAX_PADDING
    ? { level: 'extended', padding, reason: `blocked layout would pad the convolutions' work ${padding.toFixed(2)}x` }
    : { level: 'all', padding, reason: `blocked layout pads the convolutions' work only ${padding.toFixed(2)}x` };
}
