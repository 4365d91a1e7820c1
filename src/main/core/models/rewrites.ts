import {
  type ModelProto,
  type NodeProto,
  type TensorProto,
  attrFloat,
  attrInt,
  defaultOpset,
  floatTensor,
  int64Tensor,
  intValues,
  makeNode,
  onnx,
  uniqueNamer,
} from './onnx-graph';

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
