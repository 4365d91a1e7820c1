import {
  type Dim,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  DataType,
  attr,
  attrInt,
  attrInts,
  attrString,
  dimsOf,
  intValues,
  toNumber,
} from '../models/onnx-graph';

/**
 * Static shape inference for the ops the gradient builder handles. Backward rules need sizes that
 * ONNX graphs rarely record (ConvTranspose cropping, broadcast axes, split sizes); the batch stays
 * symbolic ('N'), so the generated graph keeps a dynamic batch.
 */
export interface ShapeInfo {
  shapes: Map<string, Dim[]>;
  /** Known contents of small integer tensors (Reshape targets, Shape outputs), possibly symbolic. */
  values: Map<string, Dim[]>;
}

/** Window geometry of one spatial axis of a Conv/Pool, with auto_pad resolved to explicit pads. */
export interface AxisGeom {
  k: number;
  s: number;
  d: number;
  pb: number;
  pe: number;
  inp: number;
  out: number;
}

export function windowGeometry(node: NodeProto, inSpatial: number[], kernel: number[], ceil = false): AxisGeom[] {
  const n = inSpatial.length;
  const strides = attrInts(node, 'strides') ?? new Array(n).fill(1);
  const dil = attrInts(node, 'dilations') ?? new Array(n).fill(1);
  const pads = attrInts(node, 'pads') ?? new Array(2 * n).fill(0);
  const autoPad = attrString(node, 'auto_pad') ?? 'NOTSET';
  return inSpatial.map((inp, i) => {
    const k = kernel[i];
    const s = strides[i];
    const d = dil[i];
    const span = (k - 1) * d + 1;
    let pb = pads[i];
    let pe = pads[i + n];
    if (autoPad === 'VALID') pb = pe = 0;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const out = Math.ceil(inp / s);
      const total = Math.max(0, (out - 1) * s + span - inp);
      const small = Math.floor(total / 2);
      [pb, pe] = autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
      return { k, s, d, pb, pe, inp, out };
    }
    let out: number;
    if (ceil) {
      out = Math.ceil((inp + pb + pe - span) / s) + 1;
      // The last window must start inside the input or its leading padding.
      if ((out - 1) * s >= inp + pb) out--;
    } else out = Math.floor((inp + pb + pe - span) / s) + 1;
    return { k, s, d, pb, pe, inp, out };
  });
}

export function tensorValues(t: TensorProto): number[] | undefined {
  return t.dataType === DataType.INT64 || t.dataType === DataType.INT32 ? intValues(t) : undefined;
}

function numel(d: Dim[]): { num: number; sym: string[] } {
  let num = 1;
  const sym: string[] = [];
  for (const x of d) {
    if (typeof x === 'number') num *= x;
    // A merged dimension ("N*240", from a Reshape that folded the batch into others) splits back
    // into its factors, so that a later Reshape with -1 can recover the batch from it.
    else
      for (const f of x.split('*')) {
        if (f !== '' && Number.isFinite(Number(f))) num *= Number(f);
        else sym.push(f);
      }
  }
  return { num, sym: sym.sort() };
}

function product(d: Dim[]): Dim {
  const { num, sym } = numel(d);
  if (sym.length === 0) return num;
  return num === 1 && sym.length === 1 ? sym[0] : [...sym, String(num)].join('*');
}

export function broadcastDims(a: Dim[], b: Dim[]): Dim[] {
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

function reshapeTarget(input: Dim[], target: Dim[]): Dim[] {
  const out = target.map((t, i) => (t === 0 ? input[i] : t));
  const hole = out.indexOf(-1);
  if (hole < 0) return out;
  const whole = numel(input);
  const rest = numel(out.filter((_, i) => i !== hole));
  const sym = [...whole.sym];
  for (const s of rest.sym) {
    const j = sym.indexOf(s);
    if (j < 0) return out.map((x, i) => (i === hole ? '?' : x));
    sym.splice(j, 1);
  }
  out[hole] = product([...sym, whole.num / rest.num]);
  return out;
}

const SAME_SHAPE = new Set([
  'Relu', 'Clip', 'Dropout', 'Identity', 'BatchNormalization', 'LRN', 'Softmax', 'LogSoftmax', 'Sigmoid',
  'Tanh', 'Exp', 'Log', 'Neg', 'Sqrt', 'LeakyRelu', 'Cast', 'Abs', 'Reciprocal', 'PRelu', 'HardSigmoid', 'HardSwish', 'Erf', 'LayerNormalization', 'Sign',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Equal', 'Greater', 'Less', 'Where', 'Max', 'Min', 'Sum']);

export function inferShapes(graph: GraphProto, opset: number): ShapeInfo {
  const shapes = new Map<string, Dim[]>();
  const values = new Map<string, Dim[]>();
  for (const t of graph.initializer ?? []) {
    shapes.set(t.name ?? '', (t.dims ?? []).map(toNumber));
    const v = tensorValues(t);
    if (v) values.set(t.name ?? '', v);
  }
  for (const v of graph.input ?? []) if (!shapes.has(v.name ?? '')) shapes.set(v.name ?? '', dimsOf(v));
  const intsOf = (name: string | undefined): number[] | undefined => {
    const v = name ? values.get(name) : undefined;
    return v && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
  };
  for (const n of graph.node ?? []) {
    const ins = (n.input ?? []).map((x) => (x ? shapes.get(x) : undefined));
    const x = ins[0];
    const set = (d: Dim[] | undefined, i = 0) => d && shapes.set(n.output![i], d);
    const op = n.opType ?? '';
    if (op === 'Constant') {
      const t = attr(n, 'value')?.t;
      if (t) {
        set((t.dims ?? []).map(toNumber));
        const v = tensorValues(t);
        if (v) values.set(n.output![0], v);
      }
      continue;
    }
    if (op === 'Shape') {
      if (x) {
        const start = attrInt(n, 'start', 0);
        const end = attr(n, 'end') ? attrInt(n, 'end', x.length) : x.length;
        const v = x.slice(start, end);
        values.set(n.output![0], v);
        set([v.length]);
      }
      continue;
    }
    // Shape arithmetic of older exports, e.g. x.view(x.size(0), -1) as Shape -> Gather ->
    // Unsqueeze -> Concat -> Reshape: follow the (possibly symbolic) values.
    const v0 = values.get(n.input?.[0] ?? '');
    if (v0 && (op === 'Gather' || op === 'Unsqueeze' || op === 'Squeeze' || op === 'Cast' || op === 'Identity')) {
      if (op === 'Gather') {
        const idx = intsOf(n.input![1]);
        const idxDims = shapes.get(n.input![1]);
        if (idx && idxDims && attrInt(n, 'axis', 0) === 0) {
          values.set(n.output![0], idx.map((i) => v0[i < 0 ? i + v0.length : i]));
          set(idxDims);
        }
      } else {
        values.set(n.output![0], v0);
        set(op === 'Cast' || op === 'Identity' ? (x ?? [v0.length]) : [v0.length]);
      }
      continue;
    }
    if (!x && op !== 'Concat') continue;
    if (SAME_SHAPE.has(op)) set(x);
    else if (op === 'Gather') {
      const idx = ins[1];
      const r = x!.length;
      const a = attrInt(n, 'axis', 0);
      const axis = a < 0 ? a + r : a;
      if (idx) set([...x!.slice(0, axis), ...idx, ...x!.slice(axis + 1)]);
    } else if (op === 'Expand') {
      const target = values.get(n.input![1]);
      if (target) set(broadcastDims(x!, target));
    }
    else if (BROADCAST.has(op)) {
      if (ins.every(Boolean)) set(ins.reduce((a, b) => broadcastDims(a!, b!)));
    } else if (op === 'Conv' || op === 'MaxPool' || op === 'AveragePool') {
      const w = ins[1];
      const kernel = op === 'Conv' ? (attrInts(n, 'kernel_shape') ?? (w ? (w.slice(2) as number[]) : undefined)) : attrInts(n, 'kernel_shape');
      if (!kernel) continue;
      const geom = windowGeometry(n, x!.slice(2) as number[], kernel, op !== 'Conv' && attrInt(n, 'ceil_mode', 0) === 1);
      set([x![0], op === 'Conv' ? w![0] : x![1], ...geom.map((g) => g.out)]);
      if (op === 'MaxPool' && n.output![1]) set(shapes.get(n.output![0]), 1);
    } else if (op === 'GlobalAveragePool' || op === 'GlobalMaxPool') set([x![0], x![1], ...x!.slice(2).map(() => 1)]);
    else if (op === 'Flatten') {
      const a = attrInt(n, 'axis', 1);
      const axis = a < 0 ? a + x!.length : a;
      set([product(x!.slice(0, axis)), product(x!.slice(axis))]);
    } else if (op === 'Reshape') {
      const t = values.get(n.input![1]);
      if (t) set(reshapeTarget(x!, t));
    } else if (op === 'Unsqueeze' || op === 'Squeeze') {
      const axes = opset >= 13 ? intsOf(n.input![1]) : attrInts(n, 'axes');
      if (op === 'Unsqueeze' && axes) {
        const r = x!.length + axes.length;
        const norm = axes.map((a) => (a < 0 ? a + r : a));
        const out: Dim[] = [];
        let j = 0;
        for (let i = 0; i < r; i++) out.push(norm.includes(i) ? 1 : x![j++]);
        set(out);
      } else if (op === 'Squeeze') {
        const norm = axes?.map((a) => (a < 0 ? a + x!.length : a));
        set(x!.filter((d, i) => (norm ? !norm.includes(i) : d !== 1)));
      }
    } else if (op === 'MatMul') {
      const b = ins[1];
      if (b) {
        // 1-D operands are promoted to matrices and the added axis dropped from the result.
        const a2 = x!.length === 1 ? [1, ...x!] : x!;
        const b2 = b.length === 1 ? [...b, 1] : b;
        const batch = broadcastDims(a2.slice(0, -2), b2.slice(0, -2));
        set([...batch, ...(x!.length === 1 ? [] : [a2[a2.length - 2]]), ...(b.length === 1 ? [] : [b2[b2.length - 1]])]);
      }
    } else if (op === 'ConvTranspose') {
      const w = ins[1];
      if (!w) continue;
      const sp = x!.length - 2;
      const kernel = attrInts(n, 'kernel_shape') ?? (w.slice(2) as number[]);
      const strides = attrInts(n, 'strides') ?? new Array(sp).fill(1);
      const dil = attrInts(n, 'dilations') ?? new Array(sp).fill(1);
      const pads = attrInts(n, 'pads') ?? new Array(2 * sp).fill(0);
      const opad = attrInts(n, 'output_padding') ?? new Array(sp).fill(0);
      const given = attrInts(n, 'output_shape');
      const spatial = x!.slice(2).map((d, i) =>
        given ? given[given.length - sp + i] : typeof d === 'number' ? strides[i] * (d - 1) + opad[i] + (kernel[i] - 1) * dil[i] + 1 - pads[i] - pads[sp + i] : '?',
      );
      set([x![0], (w[1] as number) * attrInt(n, 'group', 1), ...spatial]);
    } else if (op === 'ReduceMean' || op === 'ReduceSum') {
      const r = x!.length;
      const given = n.input![1] ? intsOf(n.input![1]) : (attrInts(n, 'axes') ?? []);
      if (!given) continue;
      if (given.length === 0 && attrInt(n, 'noop_with_empty_axes', 0)) {
        set(x);
        continue;
      }
      const axes = given.length ? given.map((a) => (a < 0 ? a + r : a)) : x!.map((_, i) => i);
      const keep = attrInt(n, 'keepdims', 1) === 1;
      set(keep ? x!.map((d, i) => (axes.includes(i) ? 1 : d)) : x!.filter((_, i) => !axes.includes(i)));
    } else if (op === 'Split') {
      const r = x!.length;
      const a = attrInt(n, 'axis', 0);
      const axis = a < 0 ? a + r : a;
      const k = n.output!.length;
      const d = x![axis];
      let sizes = n.input![1] ? intsOf(n.input![1]) : attrInts(n, 'split');
      if (!sizes && typeof d === 'number') {
        // Equal parts; with num_outputs (opset 18) the last one may be smaller.
        const part = Math.ceil(d / k);
        sizes = Array.from({ length: k }, (_, i) => Math.min(part, d - part * i));
      }
      if (!sizes) continue;
      sizes.forEach((sz, i) => set(x!.map((dd, j) => (j === axis ? sz : dd)), i));
    } else if (op === 'Slice') {
      const starts = intsOf(n.input![1]);
      const ends = intsOf(n.input![2]);
      if (!starts || !ends) continue;
      const r = x!.length;
      const axes = (n.input![3] ? intsOf(n.input![3]) : starts.map((_, i) => i))?.map((a) => (a < 0 ? a + r : a));
      const steps = n.input![4] ? intsOf(n.input![4]) : starts.map(() => 1);
      if (!axes || !steps) continue;
      const out = [...x!];
      axes.forEach((axis, i) => {
        const d = x![axis];
        if (typeof d !== 'number') return void (out[axis] = '?');
        const st = steps[i];
        const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
        const b = st > 0 ? clamp(starts[i], 0, d) : clamp(starts[i], 0, d - 1);
        const e = st > 0 ? clamp(ends[i], 0, d) : clamp(ends[i], -1, d - 1);
        out[axis] = Math.max(0, Math.ceil((e - b) / st));
      });
      set(out);
    } else if (op === 'Pad') {
      const r = x!.length;
      let pads = n.input![1] ? intsOf(n.input![1]) : attrInts(n, 'pads');
      if (!pads) continue;
      if (n.input![3]) {
        const axes = intsOf(n.input![3])?.map((a) => (a < 0 ? a + r : a));
        if (!axes) continue;
        const full = new Array<number>(2 * r).fill(0);
        axes.forEach((a, i) => {
          full[a] = pads![i];
          full[r + a] = pads![axes.length + i];
        });
        pads = full;
      }
      set(x!.map((d, i) => (typeof d === 'number' ? d + pads![i] + pads![r + i] : pads![i] + pads![r + i] === 0 ? d : '?')));
    } else if (op === 'Gemm') {
      const b = ins[1];
      if (b) set([attrInt(n, 'transA', 0) ? x![1] : x![0], attrInt(n, 'transB', 0) ? b[0] : b[1]]);
    } else if (op === 'Concat') {
      if (!ins.every(Boolean)) continue;
      const r = ins[0]!.length;
      const a = attrInt(n, 'axis', 0);
      const axis = a < 0 ? a + r : a;
      const out = [...ins[0]!];
      const parts = ins.map((d) => d![axis]);
      out[axis] = parts.every((p) => typeof p === 'number') ? (parts as number[]).reduce((s, p) => s + p, 0) : '?';
      set(out);
      const vals = (n.input ?? []).map((i) => values.get(i));
      if (vals.every(Boolean)) values.set(n.output![0], vals.flat() as Dim[]);
    } else if (op === 'Transpose') {
      const perm = attrInts(n, 'perm') ?? x!.map((_, i) => x!.length - 1 - i);
      set(perm.map((p) => x![p]));
    }
  }
  return { shapes, values };
}
