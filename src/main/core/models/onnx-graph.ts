import { createRequire } from 'node:module';
import type onnxProto from 'onnx-proto';
import { FoolError } from '../../../shared/errors';

/**
 * Reading, inspecting and rewriting ONNX graphs. onnxruntime only runs graphs; everything the
 * project does to a graph (dynamic batch, faster LRN, backward passes) happens here on the protobuf.
 */
// onnx-proto (protobufjs) is loaded on first use, not when a command starts: most `fool` commands
// never touch a graph, and loading it costs every one of them about 20 ms.
let loaded: typeof onnxProto | undefined;
const requireCjs = createRequire(import.meta.url);
const load = (): typeof onnxProto => (loaded ??= requireCjs('onnx-proto') as typeof onnxProto);
export const onnx = new Proxy({} as typeof onnxProto.onnx, { get: (_, key) => Reflect.get(load().onnx, key) });
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

export const DataType = new Proxy({} as typeof onnxProto.onnx.TensorProto.DataType, { get: (_, key) => Reflect.get(load().onnx.TensorProto.DataType, key) });

export type Dim = number | string;

export function decodeModel(bytes: Uint8Array, source = 'the file'): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new FoolError(
      'BAD_MODEL',
      `${source} is not a readable ONNX model (${(e as Error).message})`,
      'Check that the file is complete (not truncated by a download) and is an .onnx export',
    );
  }
  if (!model.graph || !model.graph.node || model.graph.node.length === 0) {
    throw new FoolError('BAD_MODEL', `${source} is not an ONNX model: it holds no graph`, 'Pass the .onnx file itself');
  }
  return model;
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export function dimsOf(v: ValueInfoProto): Dim[] {
  const dims = v.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue !== null && d.dimValue !== undefined ? toNumber(d.dimValue) : '?'));
}

export function initializerNames(graph: GraphProto): Set<string> {
  return new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
}

/** Graph inputs that are fed at run time (not weights). */
export function runtimeInputs(graph: GraphProto): ValueInfoProto[] {
  const inits = initializerNames(graph);
  return (graph.input ?? []).filter((i) => !inits.has(i.name ?? ''));
}

export interface GraphSummary {
  inputs: { name: string; dims: Dim[] }[];
  outputs: { name: string; dims: Dim[]; producer: string }[];
  ops: Record<string, number>;
  parameters: number;
  opset: number;
}

export function summarize(model: ModelProto): GraphSummary {
  const g = model.graph!;
  const ops: Record<string, number> = {};
  for (const n of g.node ?? []) ops[n.opType ?? '?'] = (ops[n.opType ?? '?'] ?? 0) + 1;
  let parameters = 0;
  for (const t of g.initializer ?? []) parameters += (t.dims ?? []).reduce<number>((a, d) => a * toNumber(d), 1);
  const producer = new Map<string, string>();
  for (const n of g.node ?? []) for (const o of n.output ?? []) producer.set(o, n.opType ?? '');
  return {
    inputs: runtimeInputs(g).map((i) => ({ name: i.name ?? '', dims: dimsOf(i) })),
    outputs: (g.output ?? []).map((o) => ({ name: o.name ?? '', dims: dimsOf(o), producer: producer.get(o.name ?? '') ?? '' })),
    ops,
    parameters,
    opset: defaultOpset(model),
  };
}

export function defaultOpset(model: ModelProto): number {
  const imp = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return imp ? toNumber(imp.version) : 1;
}

export function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = attr(node, name);
  return a && a.i !== null && a.i !== undefined ? toNumber(a.i) : dflt;
}

export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = attr(node, name);
  return a && a.f !== null && a.f !== undefined ? a.f : dflt;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a?.ints && a.ints.length > 0 ? a.ints.map(toNumber) : undefined;
}

export function attrString(node: NodeProto, name: string): string | undefined {
  const a = attr(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : undefined;
}

/** Element values of an int64 or int32 tensor (Reshape shapes, axes). */
export function intValues(t: TensorProto): number[] {
  if (t.int64Data && t.int64Data.length > 0) return t.int64Data.map(toNumber);
  if (t.int32Data && t.int32Data.length > 0) return [...t.int32Data];
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    if (t.dataType === DataType.INT64) for (let i = 0; i < buf.length; i += 8) out.push(Number(buf.readBigInt64LE(i)));
    else if (t.dataType === DataType.INT32) for (let i = 0; i < buf.length; i += 4) out.push(buf.readInt32LE(i));
    return out;
  }
  return [];
}

/** Float values of a float tensor, copied. */
export function floatValues(t: TensorProto): Float32Array {
  if (t.floatData && t.floatData.length > 0) return Float32Array.from(t.floatData);
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    const copy = new Uint8Array(raw.byteLength);
    copy.set(raw);
    return new Float32Array(copy.buffer);
  }
  return new Float32Array(0);
}

export function int64Tensor(name: string, values: number[], dims: number[] = [values.length]): TensorProto {
  const raw = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), i * 8));
  return onnx.TensorProto.create({ name, dims, dataType: DataType.INT64, rawData: raw });
}

export function floatTensor(name: string, values: ArrayLike<number>, dims: number[]): TensorProto {
  const f = Float32Array.from(values);
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength),
  });
}

export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, number | number[] | string | { float: number } | { floats: number[] }> = {},
  name?: string,
): NodeProto {
  const attribute: AttributeProto[] = [];
  const T = onnx.AttributeProto.AttributeType;
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'number') attribute.push({ name: k, type: T.INT, i: v });
    else if (typeof v === 'string') attribute.push({ name: k, type: T.STRING, s: new TextEncoder().encode(v) });
    else if (Array.isArray(v)) attribute.push({ name: k, type: T.INTS, ints: v });
    else if ('float' in v) attribute.push({ name: k, type: T.FLOAT, f: v.float });
    else attribute.push({ name: k, type: T.FLOATS, floats: v.floats });
  }
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, attribute, name: name ?? outputs[0] });
}

export function valueInfo(name: string, dims: Dim[], elemType: number = DataType.FLOAT): ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** A name not yet used by any tensor of the graph. */
export function uniqueNamer(graph: GraphProto): (base: string) => string {
  const used = new Set<string>();
  for (const n of graph.node ?? []) for (const x of [...(n.input ?? []), ...(n.output ?? [])]) used.add(x);
  for (const t of graph.initializer ?? []) used.add(t.name ?? '');
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) used.add(v.name ?? '');
  return (base: string) => {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
}
