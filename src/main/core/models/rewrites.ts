import {
  type ModelProto,
  type NodeProto,
  type TensorProto,
  DataType,
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  defaultOpset,
  floatTensor,
  floatValues,
  int64Tensor,
  intValues,
  makeNode,
  onnx,
  toNumber,
  uniqueNamer,
} from './onnx-graph';
import { F4x5, kernelTransform, tiledBT } from './winograd';

/**
 * Graph rewrites applied on load. Each keeps the model's results (batch: exactly; LRN: within
 * 1e-5) and changes only how fast onnxruntime can run it.
 */

export const BATCH_DIM = 'N';

/**
 * Makes dimension 0 of every graph input, output and intermediate value symbolic, and turns
 * Reshape targets that hard-code the batch (a leading 1) into "copy dimension 0". Exported models
 * often have batch 1 baked in; evaluating one image per call wastes most of the CPU.
 */
export function makeBatchDynamic(model: ModelProto): { changed: boolean } {
  const g = model.graph!;
  let changed = false;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) {
    if (inits.has(v.name)) continue;
    const dim = v.type?.tensorType?.shape?.dim;
    if (!dim || dim.length === 0) continue;
    if (dim[0].dimParam) continue;
    dim[0] = onnx.TensorShapeProto.Dimension.create({ dimParam: BATCH_DIM });
    changed = true;
  }
  const initByName = new Map<string, TensorProto>();
  for (const t of g.initializer ?? []) initByName.set(t.name ?? '', t);
  const constByName = new Map<string, NodeProto>();
  for (const n of g.node ?? []) if (n.opType === 'Constant') constByName.set(n.output?.[0] ?? '', n);

  for (const n of g.node ?? []) {
    if (n.opType !== 'Reshape' || attrInt(n, 'allowzero', 0) === 1) continue;
    const shapeName = n.input?.[1] ?? '';
    const init = initByName.get(shapeName);
    const constNode = constByName.get(shapeName);
    const tensor = init ?? constNode?.attribute?.find((a) => a.name === 'value')?.t ?? undefined;
    if (!tensor) continue;
    const shape = intValues(tensor);
    if (shape.length > 0 && shape[0] === 1) {
      shape[0] = 0; // 0 = copy the input's dimension 0
      const fresh = int64Tensor(tensor.name ?? shapeName, shape);
      if (init) Object.assign(init, { rawData: fresh.rawData, int64Data: [], int32Data: [], dataType: fresh.dataType });
      else Object.assign(tensor, { rawData: fresh.rawData, int64Data: [], int32Data: [], dataType: fresh.dataType });
      changed = true;
    }
  }
  return { changed };
}

/**
 * Replaces each LRN (across channels) with ops onnxruntime runs fast:
 *   y = x / (bias + alpha * avgpool_c(x^2))^beta
 * where the average over `size` neighbouring channels (zero padded, padding counted) equals
 * sum/size, which is exactly ONNX LRN's alpha/size * sum. The channel axis is pooled by viewing
 * [N,C,H,W] as [N,1,C,H*W] (Reshape to [N,C,H*W], then Unsqueeze). The built-in LRN kernel costs
 * about 45% of AlexNet's CPU time.
 */
export function rewriteLrn(model: ModelProto): { rewritten: number } {
  const opset = defaultOpset(model);
  const g = model.graph!;
  const fresh = uniqueNamer(g);
  const nodes: NodeProto[] = [];
  let rewritten = 0;
  const inits: TensorProto[] = [];
  let viewShape: string | undefined;
  let axesName: string | undefined;
  for (const n of g.node ?? []) {
    if (n.opType !== 'LRN') {
      nodes.push(n);
      continue;
    }
    const size = attrInt(n, 'size', 1);
    const alpha = attrFloat(n, 'alpha', 1e-4);
    const beta = attrFloat(n, 'beta', 0.75);
    const bias = attrFloat(n, 'bias', 1);
    const x = n.input![0];
    const y = n.output![0];
    if (!viewShape) {
      viewShape = fresh('lrn_view_shape');
      inits.push(int64Tensor(viewShape, [0, 0, -1]));
      if (opset >= 13) {
        axesName = fresh('lrn_unsqueeze_axes');
        inits.push(int64Tensor(axesName, [1]));
      }
    }
    const p = (s: string) => fresh(`${y}_lrn_${s}`);
    const sq = p('sq');
    const flat = p('flat');
    const view = p('view');
    const avg = p('avg');
    const shape = p('shape');
    const back = p('back');
    const scaled = p('scaled');
    const base = p('base');
    const denom = p('denom');
    const cAlpha = p('alpha');
    const cBias = p('bias');
    const cBeta = p('beta');
    inits.push(floatTensor(cAlpha, [alpha], []), floatTensor(cBias, [bias], []));
    if (beta !== 0.75 && beta !== 0.5) inits.push(floatTensor(cBeta, [beta], []));
    const padLo = Math.floor((size - 1) / 2);
    const padHi = size - 1 - padLo;
    // [N,C,H,W] -> [N,C,H*W] (0 copies a dimension) -> [N,1,C,H*W].
    nodes.push(
      makeNode('Mul', [x, x], [sq]),
      makeNode('Reshape', [sq, viewShape], [flat]),
      axesName ? makeNode('Unsqueeze', [flat, axesName], [view]) : makeNode('Unsqueeze', [flat], [view], { axes: [1] }),
      makeNode('AveragePool', [view], [avg], {
        kernel_shape: [size, 1],
        pads: [padLo, 0, padHi, 0],
        count_include_pad: 1,
      }),
      makeNode('Shape', [x], [shape]),
      makeNode('Reshape', [avg, shape], [back]),
      makeNode('Mul', [back, cAlpha], [scaled]),
      makeNode('Add', [scaled, cBias], [base]),
      ...powNodes(base, beta, cBeta, denom, p),
      makeNode('Div', [x, denom], [y], {}, n.name ?? y),
    );
    rewritten++;
  }
  if (rewritten > 0) {
    g.node = nodes;
    g.initializer = [...(g.initializer ?? []), ...inits];
  }
  return { rewritten };
}


/**
 * base^beta. AlexNet's beta 0.75 is sqrt(b) * sqrt(sqrt(b)) and 0.5 is sqrt(b): Sqrt is a fast
 * vectorised kernel, Pow a slow exp/log one (measured: the Sqrt form is ~15% faster on AlexNet).
 */
function powNodes(base: string, beta: number, cBeta: string, out: string, fresh: (s: string) => string): NodeProto[] {
  if (beta === 0.5) return [makeNode('Sqrt', [base], [out])];
  if (beta === 0.75) {
    const s1 = fresh('sqrt');
    const s2 = fresh('sqrt2');
    return [makeNode('Sqrt', [base], [s1]), makeNode('Sqrt', [s1], [s2]), makeNode('Mul', [s1, s2], [out])];
  }
  return [makeNode('Pow', [base, cBeta], [out])];
}

/** Options of rewriteWinogradConv. */
export interface WinogradConvOptions {
  /** Fewest input and output channels worth it: the per-position products are [tiles x C] x [C x K]. */
  minChannels?: number;
}

/**
 * Spatial sizes [H, W] of NCHW values, followed from the graph inputs through the ops that keep
 * or compute them (Conv and pooling without auto_pad, elementwise ops against constants). Values
 * it cannot follow are absent: the Winograd rewrite needs static sizes and skips those.
 */
function spatialSizes(model: ModelProto): Map<string, [number, number]> {
  const g = model.graph!;
  const sizes = new Map<string, [number, number]>();
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  for (const v of g.input ?? []) {
    const dim = v.type?.tensorType?.shape?.dim ?? [];
    if (dim.length !== 4) continue;
    const h = toNumber(dim[2].dimValue);
    const w = toNumber(dim[3].dimValue);
    if (h > 0 && w > 0) sizes.set(v.name ?? '', [h, w]);
  }
  const keeps = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Clip', 'BatchNormalization', 'Dropout', 'Identity', 'Add', 'Sub', 'Mul', 'Div', 'LRN']);
  for (const n of g.node ?? []) {
    const x = sizes.get(n.input?.[0] ?? '');
    if (!x) continue;
    const out = n.output?.[0] ?? '';
    if (keeps.has(n.opType ?? '')) {
      // Binary ops keep the shape when the other operand is a constant (bias, scale).
      if ((n.input ?? []).slice(1).every((i) => i === '' || inits.has(i))) sizes.set(out, x);
      continue;
    }
    if (!['Conv', 'MaxPool', 'AveragePool'].includes(n.opType ?? '')) continue;
    const autoPad = attrString(n, 'auto_pad') ?? 'NOTSET';
    if (autoPad !== 'NOTSET' && autoPad !== 'VALID') continue;
    let kernel = attrInts(n, 'kernel_shape');
    if (!kernel && n.opType === 'Conv') {
      const w = (g.initializer ?? []).find((t) => t.name === n.input?.[1]);
      kernel = w?.dims?.slice(2).map(toNumber);
    }
    if (!kernel || kernel.length !== 2 || attrInt(n, 'ceil_mode', 0) !== 0) continue;
    const strides = attrInts(n, 'strides') ?? [1, 1];
    const dil = attrInts(n, 'dilations') ?? [1, 1];
    const pads = attrInts(n, 'pads') ?? [0, 0, 0, 0];
    const o = [0, 1].map((i) => Math.floor((x[i] + pads[i] + pads[i + 2] - dil[i] * (kernel[i] - 1) - 1) / strides[i]) + 1);
    sizes.set(out, [o[0], o[1]]);
  }
  return sizes;
}

/**
 * Replaces 5x5 convolutions (stride 1, no dilation, no groups, no padding, output sides multiples
 * of 4, static weights) by Winograd's F(4x4, 5x5) (models/winograd.ts, as the training graph's
 * conv2): the input cut into overlapping 8x8 tiles and transformed (B^T d B) by two MatMuls whose
 * constant matrices also cut the tiles, then for each of the 64 transformed positions one
 * [tiles x C] x [C x K] product (one batched MatMul: 6.25x fewer multiplies than the direct
 * convolution), then the output transform (A^T M A) and the bias. The kernels are transformed
 * (G g G^T) here, once, in float64, then rounded to float32. Every Transpose moves one axis
 * (onnxruntime's fast case). Results equal the Conv's to float32 rounding (~1e-6 of the output's
 * scale). Only worth it where onnxruntime runs the Conv unblocked (graph level 'extended': odd
 * channel counts such as Caffe LeNet's 20 -> 50) and the channels are not few; the caller decides.
 */
export function rewriteWinogradConv(model: ModelProto, opts: WinogradConvOptions = {}): { rewritten: number } {
  const minChannels = opts.minChannels ?? 8;
  const g = model.graph!;
  const fresh = uniqueNamer(g);
  const sizes = spatialSizes(model);
  const initByName = new Map((g.initializer ?? []).map((t) => [t.name ?? '', t]));
  const F = F4x5;
  const A = F.a; // 8
  const M = F.m; // 4
  const kron = kernelTransform(F); // [64, 25]
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  let rewritten = 0;
  /** The replaced Convs' weights and biases: dropped below unless another node reads them. */
  const replaced = new Set<string>();
  const ints = (base: string, v: number[]) => {
    const name = fresh(base);
    inits.push(int64Tensor(name, v));
    return name;
  };
  for (const n of g.node ?? []) {
    const wInit = initByName.get(n.input?.[1] ?? '');
    const hw = sizes.get(n.input?.[0] ?? '');
    const wd = wInit?.dims?.map(toNumber) ?? [];
    const bInit = n.input?.[2] ? initByName.get(n.input[2]) : undefined;
    const ok =
      n.opType === 'Conv' &&
      wInit !== undefined &&
      wInit.dataType === DataType.FLOAT &&
      hw !== undefined &&
      wd.length === 4 &&
      wd[2] === 5 &&
      wd[3] === 5 &&
      wd[0] >= minChannels &&
      wd[1] >= minChannels &&
      attrInt(n, 'group', 1) === 1 &&
      (attrInts(n, 'strides') ?? [1, 1]).every((s) => s === 1) &&
      (attrInts(n, 'dilations') ?? [1, 1]).every((d) => d === 1) &&
      (attrInts(n, 'pads') ?? [0, 0, 0, 0]).every((p) => p === 0) &&
      ['NOTSET', 'VALID'].includes(attrString(n, 'auto_pad') ?? 'NOTSET') &&
      (hw[0] - 4) % M === 0 &&
      (hw[1] - 4) % M === 0 &&
      hw[0] > 4 &&
      hw[1] > 4 &&
      (!n.input?.[2] || (bInit !== undefined && bInit.dataType === DataType.FLOAT));
    if (!ok) {
      nodes.push(n);
      continue;
    }
    const [K, C] = wd;
    const [H, W] = hw;
    for (const i of n.input!.slice(1)) if (i) replaced.add(i);
    const ty = (H - 4) / M;
    const tx = (W - 4) / M;
    const x = n.input![0];
    const y = n.output![0];
    const p = (s: string) => fresh(`${y}_wino_${s}`);
    const f = (base: string, values: ArrayLike<number>, dims: number[]) => {
      const name = p(base);
      inits.push(floatTensor(name, values, dims));
      return name;
    };
    // U[(eta, xi), c, k] = sum_(ky, kx) G G^T[(eta, xi), (ky, kx)] W[k, c, ky, kx], in float64.
    const w = floatValues(wInit);
    const u = new Float64Array(A * A * C * K);
    for (let e = 0; e < A * A; e++)
      for (let k = 0; k < K; k++)
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let t = 0; t < 25; t++) s += kron[e * 25 + t] * w[(k * C + c) * 25 + t];
          u[(e * C + c) * K + k] = s;
        }
    const uName = f('U', u, [A * A, C, K]);
    const by = f('BTy', tiledBT(F, ty), [A * ty, H]);
    const bx = f('BTx', tiledBT(F, tx), [A * tx, W]);
    const at = f('AT', F.AT.flat(), [M, A]);
    const v = (s: string) => p(s);
    const [xf, xt, xt2, s1, s1r, s2, s2r, vt, vv, prod, prodr, o1, o1r, o2, o2r, o3, o3r, o4, o5] = [
      'xf', 'xt', 'xt2', 's1', 's1r', 's2', 's2r', 'vt', 'v', 'prod', 'prodr', 'o1', 'o1r', 'o2', 'o2r', 'o3', 'o3r', 'o4', 'o5',
    ].map(v);
    const out = bInit ? p('nobias') : y;
    nodes.push(
      // [N, C, H, W] -> [(N, C), (H, W)] -> [(H, W), (N, C)]: a 2-D transpose.
      makeNode('Reshape', [x, ints('wino_shape', [-1, H * W])], [xf]),
      makeNode('Transpose', [xf], [xt], { perm: [1, 0] }),
      // Rows: tiles of H cut and transformed, [(eta, ty), W * N * C].
      makeNode('Reshape', [xt, ints('wino_shape', [H, -1])], [xt2]),
      makeNode('MatMul', [by, xt2], [s1]),
      // Columns: per (eta, ty), [(xi, tx), W] x [W, (N, C)].
      makeNode('Reshape', [s1, ints('wino_shape', [A * ty, W, -1])], [s1r]),
      makeNode('MatMul', [bx, s1r], [s2]),
      // [eta, ty, xi, tx * N * C] -> [eta, xi, ty, tx * N * C] = [(eta, xi), (ty, tx, N), C].
      makeNode('Reshape', [s2, ints('wino_shape', [A, ty, A, -1])], [s2r]),
      makeNode('Transpose', [s2r], [vt], { perm: [0, 2, 1, 3] }),
      makeNode('Reshape', [vt, ints('wino_shape', [A * A, -1, C])], [vv]),
      makeNode('MatMul', [vv, uName], [prod]), // [(eta, xi), (ty, tx, N), K]
      // A^T over eta (one GEMM), then over xi (one per oy).
      makeNode('Reshape', [prod, ints('wino_shape', [A, -1])], [prodr]),
      makeNode('MatMul', [at, prodr], [o1]), // [oy, (xi, ty, tx, N, K)]
      makeNode('Reshape', [o1, ints('wino_shape', [M, A, -1])], [o1r]),
      makeNode('MatMul', [at, o1r], [o2]), // [oy, ox, (ty, tx, N, K)]
      // [oy, ox, ty, tx, (N, K)] -> [ty, oy, ox, tx, (N, K)] -> [ty, oy, tx, ox, (N, K)] -> [(N, K), (ty, oy, tx, ox)]:
      // each moves one axis with a large block behind it (the fast kinds; moving ox last directly is 10x slower).
      makeNode('Reshape', [o2, ints('wino_shape', [M, M, ty, tx, -1])], [o2r]),
      makeNode('Transpose', [o2r], [o3], { perm: [2, 0, 1, 3, 4] }),
      makeNode('Transpose', [o3], [o3r], { perm: [0, 1, 3, 2, 4] }),
      makeNode('Reshape', [o3r, ints('wino_shape', [(H - 4) * (W - 4), -1])], [o4]),
      makeNode('Transpose', [o4], [o5], { perm: [1, 0] }),
      makeNode('Reshape', [o5, ints('wino_shape', [-1, K, H - 4, W - 4])], [out], {}, bInit ? undefined : (n.name ?? y)),
    );
    if (bInit) nodes.push(makeNode('Add', [out, f('bias', floatValues(bInit), [K, 1, 1])], [y], {}, n.name ?? y));
    rewritten++;
  }
  if (rewritten > 0) {
    g.node = nodes;
    g.initializer = [...(g.initializer ?? []), ...inits];
    // Weights only the Conv read are dropped (their transformed copies replace them).
    const still = new Set<string>();
    for (const n of nodes) for (const i of n.input ?? []) still.add(i);
    for (const o of g.output ?? []) still.add(o.name ?? '');
    const dropped = new Set([...replaced].filter((name) => !still.has(name)));
    g.initializer = g.initializer.filter((t) => !dropped.has(t.name ?? ''));
    g.input = (g.input ?? []).filter((i) => !dropped.has(i.name ?? ''));
  }
  return { rewritten };
}
