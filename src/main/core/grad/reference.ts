import {
  type ModelProto,
  type NodeProto,
  type TensorProto,
  DataType,
  attr,
  attrFloat,
  attrInt,
  attrInts,
  floatValues,
  intValues,
  toNumber,
} from '../models/onnx-graph';
import { FoolError } from '../../../shared/errors';
import { windowGeometry } from './shapes';

/**
 * A slow, float64 interpreter of forward classifier graphs (2-D spatial ops only). onnxruntime's
 * CPU kernels for Conv and pooling are float32-only, so the finite-difference checks of the
 * gradient graphs use this as their reference forward pass.
 */
export interface T64 {
  data: Float64Array;
  dims: number[];
}

const size = (d: number[]) => d.reduce((a, b) => a * b, 1);
const strides = (d: number[]) => {
  const s = new Array<number>(d.length).fill(1);
  for (let i = d.length - 2; i >= 0; i--) s[i] = s[i + 1] * d[i + 1];
  return s;
};

function tensorOf(t: TensorProto): T64 {
  const dims = (t.dims ?? []).map(toNumber);
  if (t.dataType === DataType.FLOAT) return { data: Float64Array.from(floatValues(t)), dims };
  if (t.dataType === DataType.DOUBLE) return { data: Float64Array.from(t.doubleData ?? []), dims };
  return { data: Float64Array.from(intValues(t)), dims };
}

function broadcast(a: T64, b: T64, f: (x: number, y: number) => number): T64 {
  const r = Math.max(a.dims.length, b.dims.length);
  const pad = (d: number[]) => [...new Array(r - d.length).fill(1), ...d];
  const [da, db] = [pad(a.dims), pad(b.dims)];
  const dims = da.map((x, i) => Math.max(x, db[i]));
  const [sa, sb, so] = [strides(da), strides(db), strides(dims)];
  const out = new Float64Array(size(dims));
  for (let i = 0; i < out.length; i++) {
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < r; k++) {
      const c = Math.floor(i / so[k]) % dims[k];
      if (da[k] > 1) ia += c * sa[k];
      if (db[k] > 1) ib += c * sb[k];
    }
    out[i] = f(a.data[ia], b.data[ib]);
  }
  return { data: out, dims };
}

const map = (x: T64, f: (v: number) => number): T64 => ({ data: x.data.map(f), dims: x.dims });

function conv(n: NodeProto, x: T64, w: T64, b?: T64): T64 {
  const [N, C, H, W] = x.dims;
  const [O, Cg, KH, KW] = w.dims;
  const group = attrInt(n, 'group', 1);
  const [gh, gw] = windowGeometry(n, [H, W], [KH, KW]);
  const Og = O / group;
  const [OH, OW] = [gh.out, gw.out];
  const P = OH * OW;
  const R = Cg * KH * KW;
  const out = new Float64Array(N * O * P);
  const xd = x.data;
  const wd = w.data;
  // im2col per (sample, group), then rows of W times columns: long contiguous inner loops.
  const cols = new Float64Array(R * P);
  for (let nn = 0; nn < N; nn++)
    for (let g = 0; g < group; g++) {
      cols.fill(0);
      for (let ci = 0; ci < Cg; ci++)
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++) {
            const row = ((ci * KH + kh) * KW + kw) * P;
            const plane = (nn * C + g * Cg + ci) * H * W;
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * gh.s + kh * gh.d - gh.pb;
              if (ih < 0 || ih >= H) continue;
              for (let ow = 0; ow < OW; ow++) {
                const iw = ow * gw.s + kw * gw.d - gw.pb;
                if (iw >= 0 && iw < W) cols[row + oh * OW + ow] = xd[plane + ih * W + iw];
              }
            }
          }
      for (let oo = 0; oo < Og; oo++) {
        const o = g * Og + oo;
        const base = (nn * O + o) * P;
        out.fill(b ? b.data[o] : 0, base, base + P);
      }
      // Two output channels against four rows of columns per pass: each column value loaded once
      // serves eight multiply-adds (3-5x faster than one row at a time; the finite-difference checks
      // of the real models spend most of their time here).
      let oo = 0;
      for (; oo + 2 <= Og; oo += 2) {
        const o = g * Og + oo;
        const b0 = (nn * O + o) * P;
        const b1 = b0 + P;
        const w0 = o * R;
        const w1 = w0 + R;
        let r = 0;
        for (; r + 4 <= R; r += 4) {
          const a0 = wd[w0 + r], a1 = wd[w0 + r + 1], a2 = wd[w0 + r + 2], a3 = wd[w0 + r + 3];
          const c0 = wd[w1 + r], c1 = wd[w1 + r + 1], c2 = wd[w1 + r + 2], c3 = wd[w1 + r + 3];
          const r0 = r * P, r1 = r0 + P, r2 = r1 + P, r3 = r2 + P;
          for (let p = 0; p < P; p++) {
            const x0 = cols[r0 + p], x1 = cols[r1 + p], x2 = cols[r2 + p], x3 = cols[r3 + p];
            out[b0 + p] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
            out[b1 + p] += c0 * x0 + c1 * x1 + c2 * x2 + c3 * x3;
          }
        }
        for (; r < R; r++) {
          const a = wd[w0 + r];
          const c = wd[w1 + r];
          const row = r * P;
          for (let p = 0; p < P; p++) {
            const x = cols[row + p];
            out[b0 + p] += a * x;
            out[b1 + p] += c * x;
          }
        }
      }
      for (; oo < Og; oo++) {
        const o = g * Og + oo;
        const base = (nn * O + o) * P;
        for (let r = 0; r < R; r++) {
          const wv = wd[o * R + r];
          const row = r * P;
          for (let p = 0; p < P; p++) out[base + p] += wv * cols[row + p];
        }
      }
    }
  return { data: out, dims: [N, O, gh.out, gw.out] };
}

/** ConvTranspose (2-D): each input element spreads W over its window of the output. */
function convTranspose(n: NodeProto, x: T64, w: T64, b?: T64): T64 {
  const [N, C, H, W] = x.dims;
  const [, Og, KH, KW] = w.dims;
  const group = attrInt(n, 'group', 1);
  const Cg = C / group;
  const O = Og * group;
  const [sh, sw] = attrInts(n, 'strides') ?? [1, 1];
  const [dh, dw] = attrInts(n, 'dilations') ?? [1, 1];
  const [pt, pl, pb, pr] = attrInts(n, 'pads') ?? [0, 0, 0, 0];
  const [oph, opw] = attrInts(n, 'output_padding') ?? [0, 0];
  const OH = sh * (H - 1) + oph + (KH - 1) * dh + 1 - pt - pb;
  const OW = sw * (W - 1) + opw + (KW - 1) * dw + 1 - pl - pr;
  const out = new Float64Array(N * O * OH * OW);
  for (let nn = 0; nn < N; nn++)
    for (let o = 0; o < O; o++) out.fill(b ? b.data[o] : 0, (nn * O + o) * OH * OW, (nn * O + o + 1) * OH * OW);
  for (let nn = 0; nn < N; nn++)
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg);
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++) {
          const v = x.data[((nn * C + c) * H + ih) * W + iw];
          for (let oo = 0; oo < Og; oo++) {
            const o = g * Og + oo;
            for (let kh = 0; kh < KH; kh++) {
              const oh = ih * sh + kh * dh - pt;
              if (oh < 0 || oh >= OH) continue;
              for (let kw = 0; kw < KW; kw++) {
                const ow = iw * sw + kw * dw - pl;
                if (ow < 0 || ow >= OW) continue;
                out[((nn * O + o) * OH + oh) * OW + ow] += v * w.data[((c * Og + oo) * KH + kh) * KW + kw];
              }
            }
          }
        }
    }
  return { data: out, dims: [N, O, OH, OW] };
}

function pool(n: NodeProto, x: T64, kind: 'max' | 'avg'): T64 {
  const [N, C, H, W] = x.dims;
  const k = attrInts(n, 'kernel_shape')!;
  const [gh, gw] = windowGeometry(n, [H, W], k, attrInt(n, 'ceil_mode', 0) === 1);
  const includePad = attrInt(n, 'count_include_pad', 0) === 1;
  const out = new Float64Array(N * C * gh.out * gw.out);
  let idx = 0;
  for (let p = 0; p < N * C; p++)
    for (let oh = 0; oh < gh.out; oh++)
      for (let ow = 0; ow < gw.out; ow++) {
        const h0 = oh * gh.s - gh.pb;
        const w0 = ow * gw.s - gw.pb;
        let acc = kind === 'max' ? -Infinity : 0;
        let count = 0;
        for (let kh = 0; kh < gh.k; kh++)
          for (let kw = 0; kw < gw.k; kw++) {
            const ih = h0 + kh * gh.d;
            const iw = w0 + kw * gw.d;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const v = x.data[(p * H + ih) * W + iw];
            acc = kind === 'max' ? Math.max(acc, v) : acc + v;
            count++;
          }
        if (kind === 'avg' && includePad) {
          // Padded positions count, positions past the padding (ceil_mode overhang) do not.
          const span = (o0: number, g: { k: number; inp: number; pe: number }) => Math.min(o0 + g.k, g.inp + g.pe) - o0;
          count = span(h0, gh) * span(w0, gw);
        }
        out[idx++] = kind === 'max' ? acc : acc / count;
      }
  return { data: out, dims: [N, C, gh.out, gw.out] };
}

/** erf in float64: its Taylor series near 0, erfc's continued fraction beyond |x| = 3. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let k = 1; k < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); k++) {
      term *= (-ax * ax) / k;
      sum += term / (2 * k + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated backwards.
  let f = ax;
  for (let k = 80; k >= 1; k--) f = ax + k / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f);
}

/** numpy matmul: 1-D operands promoted, leading axes broadcast. */
function matmul(a: T64, b: T64): T64 {
  const ad = a.dims.length === 1 ? [1, ...a.dims] : a.dims;
  const bd = b.dims.length === 1 ? [...b.dims, 1] : b.dims;
  const [M, K] = ad.slice(-2);
  const P = bd[bd.length - 1];
  const la = ad.slice(0, -2);
  const lb = bd.slice(0, -2);
  const r = Math.max(la.length, lb.length);
  const pa = [...new Array(r - la.length).fill(1), ...la];
  const pb = [...new Array(r - lb.length).fill(1), ...lb];
  const lead = pa.map((d, i) => Math.max(d, pb[i]));
  const [sa, sb, sl] = [strides(pa), strides(pb), strides(lead)];
  const B = size(lead);
  const out = new Float64Array(B * M * P);
  for (let q = 0; q < B; q++) {
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < r; k++) {
      const c = Math.floor(q / sl[k]) % lead[k];
      if (pa[k] > 1) ia += c * sa[k];
      if (pb[k] > 1) ib += c * sb[k];
    }
    const ao = ia * M * K;
    const bo = ib * K * P;
    const oo = q * M * P;
    for (let i = 0; i < M; i++)
      for (let k = 0; k < K; k++) {
        const av = a.data[ao + i * K + k];
        for (let j = 0; j < P; j++) out[oo + i * P + j] += av * b.data[bo + k * P + j];
      }
  }
  const dims = [...lead, ...(a.dims.length === 1 ? [] : [M]), ...(b.dims.length === 1 ? [] : [P])];
  return { data: out, dims };
}

/** An op that only moves elements: output element at `coords` is input element src(coords), or `fill` where src gives -1. */
function route(x: T64, dims: number[], src: (coords: number[]) => number, fill = 0): T64 {
  const so = strides(dims);
  const out = new Float64Array(size(dims));
  const coords = new Array<number>(dims.length);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < dims.length; k++) coords[k] = Math.floor(i / so[k]) % dims[k];
    const at = src(coords);
    out[i] = at < 0 ? fill : x.data[at];
  }
  return { data: out, dims };
}

function reduce(x: T64, axesIn: number[], keep: boolean, mean: boolean): T64 {
  const r = x.dims.length;
  const axes = axesIn.length ? axesIn.map((a) => (a < 0 ? a + r : a)) : x.dims.map((_, i) => i);
  const kept = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const sk = strides(kept);
  const sx = strides(x.dims);
  const out = new Float64Array(size(kept));
  for (let i = 0; i < x.data.length; i++) {
    let o = 0;
    for (let k = 0; k < r; k++) if (!axes.includes(k)) o += (Math.floor(i / sx[k]) % x.dims[k]) * sk[k];
    out[o] += x.data[i];
  }
  const count = x.data.length / out.length;
  if (mean) for (let i = 0; i < out.length; i++) out[i] /= count;
  return { data: out, dims: keep ? kept : x.dims.filter((_, i) => !axes.includes(i)) };
}

function transpose(x: T64, perm: number[]): T64 {
  const dims = perm.map((p) => x.dims[p]);
  const [si, so] = [strides(x.dims), strides(dims)];
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let k = 0; k < dims.length; k++) src += (Math.floor(i / so[k]) % dims[k]) * si[perm[k]];
    out[i] = x.data[src];
  }
  return { data: out, dims };
}

function softmax(x: T64, axis: number, log: boolean): T64 {
  const a = axis < 0 ? axis + x.dims.length : axis;
  const inner = size(x.dims.slice(a + 1));
  const K = x.dims[a];
  const out = new Float64Array(x.data.length);
  for (let o = 0; o < size(x.dims.slice(0, a)); o++)
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * K + k) * inner + i;
      let mx = -Infinity;
      for (let k = 0; k < K; k++) mx = Math.max(mx, x.data[at(k)]);
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.exp(x.data[at(k)] - mx);
      for (let k = 0; k < K; k++) out[at(k)] = log ? x.data[at(k)] - mx - Math.log(s) : Math.exp(x.data[at(k)] - mx) / s;
    }
  return { data: out, dims: x.dims };
}

function reshape(x: T64, target: number[]): T64 {
  const dims = target.map((t, i) => (t === 0 ? x.dims[i] : t));
  const hole = dims.indexOf(-1);
  if (hole >= 0) dims[hole] = x.data.length / -size(dims);
  return { data: x.data, dims };
}

export function evaluate(model: ModelProto, feeds: Record<string, T64>, outputs: string[]): Record<string, T64> {
  const g = model.graph!;
  const opset = toNumber((model.opsetImport ?? []).find((o) => !o.domain)?.version ?? 13);
  const env = new Map<string, T64>();
  for (const t of g.initializer ?? []) env.set(t.name ?? '', tensorOf(t));
  for (const [k, v] of Object.entries(feeds)) env.set(k, v);
  for (const n of g.node ?? []) {
    const i = (k: number) => (n.input![k] ? env.get(n.input![k]) : undefined);
    const x = i(0)!;
    const ints = (k: number) => Array.from(i(k)!.data);
    const r = x?.dims.length ?? 0;
    const norm = (a: number) => (a < 0 ? a + r : a);
    let y: T64 | T64[];
    switch (n.opType) {
      case 'Constant': y = tensorOf(attr(n, 'value')!.t!); break;
      case 'Identity': case 'Dropout': y = x; break;
      case 'Conv': y = conv(n, x, i(1)!, i(2)); break;
      case 'MaxPool': y = pool(n, x, 'max'); break;
      case 'AveragePool': y = pool(n, x, 'avg'); break;
      case 'GlobalAveragePool': {
        const area = size(x.dims.slice(2));
        const out = new Float64Array(x.dims[0] * x.dims[1]);
        x.data.forEach((v, j) => (out[Math.floor(j / area)] += v / area));
        y = { data: out, dims: [x.dims[0], x.dims[1], ...x.dims.slice(2).map(() => 1)] };
        break;
      }
      case 'ConvTranspose': y = convTranspose(n, x, i(1)!, i(2)); break;
      case 'GlobalMaxPool': {
        const area = size(x.dims.slice(2));
        const out = new Float64Array(x.dims[0] * x.dims[1]).fill(-Infinity);
        x.data.forEach((v, j) => (out[Math.floor(j / area)] = Math.max(out[Math.floor(j / area)], v)));
        y = { data: out, dims: [x.dims[0], x.dims[1], ...x.dims.slice(2).map(() => 1)] };
        break;
      }
      case 'ReduceMean': case 'ReduceSum': {
        const axes = n.input![1] ? ints(1) : (attrInts(n, 'axes') ?? []);
        y = axes.length === 0 && attrInt(n, 'noop_with_empty_axes', 0) ? x : reduce(x, axes, attrInt(n, 'keepdims', 1) === 1, n.opType === 'ReduceMean');
        break;
      }
      case 'Split': {
        const axis = norm(attrInt(n, 'axis', 0));
        const k = n.output!.length;
        const d = x.dims[axis];
        const sizes = n.input![1] ? ints(1) : (attrInts(n, 'split') ?? Array.from({ length: k }, (_, j) => Math.min(Math.ceil(d / k), d - Math.ceil(d / k) * j)));
        const sx = strides(x.dims);
        let start = 0;
        y = sizes.map((sz) => {
          const from = start;
          start += sz;
          return route(x, x.dims.map((dd, j) => (j === axis ? sz : dd)), (co) => co.reduce((acc, c, j) => acc + (j === axis ? c + from : c) * sx[j], 0));
        });
        break;
      }
      case 'Slice': {
        const old = opset < 10;
        const starts = old ? attrInts(n, 'starts')! : ints(1);
        const ends = old ? attrInts(n, 'ends')! : ints(2);
        const axes = (old ? attrInts(n, 'axes') : n.input![3] ? ints(3) : undefined) ?? starts.map((_, j) => j);
        const steps = !old && n.input![4] ? ints(4) : starts.map(() => 1);
        const dims = [...x.dims];
        const first = x.dims.map(() => 0);
        const step = x.dims.map(() => 1);
        axes.forEach((a0, j) => {
          const a = norm(a0);
          const d = x.dims[a];
          const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
          const st = steps[j];
          const b = st > 0 ? clamp(starts[j], 0, d) : clamp(starts[j], 0, d - 1);
          const e = st > 0 ? clamp(ends[j], 0, d) : clamp(ends[j], -1, d - 1);
          dims[a] = Math.max(0, Math.ceil((e - b) / st));
          first[a] = b;
          step[a] = st;
        });
        const sx = strides(x.dims);
        y = route(x, dims, (co) => co.reduce((acc, c, j) => acc + (first[j] + c * step[j]) * sx[j], 0));
        break;
      }
      case 'Pad': {
        const old = opset < 11;
        let pads = old ? attrInts(n, 'pads')! : ints(1);
        const value = old ? attrFloat(n, 'value', 0) : i(2)?.data[0] ?? 0;
        if (!old && n.input![3]) {
          const axes = ints(3).map(norm);
          const full = new Array<number>(2 * r).fill(0);
          axes.forEach((a, j) => {
            full[a] = pads[j];
            full[r + a] = pads[axes.length + j];
          });
          pads = full;
        }
        const mode = attr(n, 'mode')?.s ? new TextDecoder().decode(attr(n, 'mode')!.s!) : 'constant';
        const dims = x.dims.map((d, j) => d + pads[j] + pads[r + j]);
        const sx = strides(x.dims);
        y = route(x, dims, (co) => {
          let at = 0;
          for (let j = 0; j < r; j++) {
            const d = x.dims[j];
            let c = co[j] - pads[j];
            if (c < 0 || c >= d) {
              if (mode === 'constant') return -1;
              if (mode === 'edge') c = c < 0 ? 0 : d - 1;
              else c = c < 0 ? -c : 2 * (d - 1) - c; // reflect (pads < d)
            }
            at += c * sx[j];
          }
          return at;
        }, value);
        break;
      }
      case 'Cast': y = x; break;
      case 'Gather': {
        const axis = norm(attrInt(n, 'axis', 0));
        const idx = i(1)!;
        const outer = size(x.dims.slice(0, axis));
        const inner = size(x.dims.slice(axis + 1));
        const d = x.dims[axis];
        const out = new Float64Array(outer * idx.data.length * inner);
        for (let o = 0; o < outer; o++)
          idx.data.forEach((k0, j) => {
            const k = k0 < 0 ? k0 + d : k0;
            out.set(x.data.subarray((o * d + k) * inner, (o * d + k + 1) * inner), (o * idx.data.length + j) * inner);
          });
        y = { data: out, dims: [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)] };
        break;
      }
      case 'Expand': y = broadcast(x, { data: new Float64Array(size(ints(1))), dims: ints(1) }, (v) => v); break;
      case 'Erf': y = map(x, erf); break;
      case 'Neg': y = map(x, (v) => -v); break;
      case 'Exp': y = map(x, Math.exp); break;
      case 'Log': y = map(x, Math.log); break;
      case 'Abs': y = map(x, Math.abs); break;
      case 'Reciprocal': y = map(x, (v) => 1 / v); break;
      case 'Sqrt': y = map(x, Math.sqrt); break;
      case 'LayerNormalization': {
        const axis = norm(attrInt(n, 'axis', -1));
        const eps = attrFloat(n, 'epsilon', 1e-5);
        const inner = size(x.dims.slice(axis));
        const [scale, bias] = [i(1)!, i(2)];
        const out = new Float64Array(x.data.length);
        for (let o = 0; o < x.data.length / inner; o++) {
          const row = x.data.subarray(o * inner, (o + 1) * inner);
          const mean = row.reduce((acc, v) => acc + v, 0) / inner;
          const v2 = row.reduce((acc, v) => acc + (v - mean) ** 2, 0) / inner;
          const rstd = 1 / Math.sqrt(v2 + eps);
          // scale and B broadcast to the normalised axes.
          for (let j = 0; j < inner; j++) out[o * inner + j] = (row[j] - mean) * rstd * scale.data[j % scale.data.length] + (bias ? bias.data[j % bias.data.length] : 0);
        }
        y = { data: out, dims: x.dims };
        break;
      }
      case 'PRelu': y = broadcast(x, i(1)!, (v, sl) => (v > 0 ? v : sl * v)); break;
      case 'HardSigmoid': { const [a, b] = [attrFloat(n, 'alpha', 0.2), attrFloat(n, 'beta', 0.5)]; y = map(x, (v) => Math.max(0, Math.min(1, a * v + b))); break; }
      case 'HardSwish': y = map(x, (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5))); break;
      case 'Relu': y = map(x, (v) => Math.max(v, 0)); break;
      case 'LeakyRelu': { const a = attrFloat(n, 'alpha', 0.01); y = map(x, (v) => (v > 0 ? v : a * v)); break; }
      case 'Sigmoid': y = map(x, (v) => 1 / (1 + Math.exp(-v))); break;
      case 'Tanh': y = map(x, Math.tanh); break;
      case 'Clip': {
        const lo = i(1)?.data[0] ?? attr(n, 'min')?.f ?? -Infinity;
        const hi = i(2)?.data[0] ?? attr(n, 'max')?.f ?? Infinity;
        y = map(x, (v) => Math.min(Math.max(v, lo), hi));
        break;
      }
      case 'Add': y = broadcast(x, i(1)!, (a, b) => a + b); break;
      case 'Sub': y = broadcast(x, i(1)!, (a, b) => a - b); break;
      case 'Mul': y = broadcast(x, i(1)!, (a, b) => a * b); break;
      case 'Div': y = broadcast(x, i(1)!, (a, b) => a / b); break;
      case 'Pow': y = broadcast(x, i(1)!, Math.pow); break;
      case 'MatMul': y = matmul(x, i(1)!); break;
      case 'Gemm': {
        const a = attrInt(n, 'transA', 0) ? transpose(x, [1, 0]) : x;
        const b = attrInt(n, 'transB', 0) ? transpose(i(1)!, [1, 0]) : i(1)!;
        const [alpha, beta] = [attrFloat(n, 'alpha', 1), attrFloat(n, 'beta', 1)];
        y = map(matmul(a, b), (v) => v * alpha);
        if (i(2)) y = broadcast(y, i(2)!, (p, q) => p + beta * q);
        break;
      }
      case 'Flatten': { const a = attrInt(n, 'axis', 1); y = { data: x.data, dims: [size(x.dims.slice(0, a)), size(x.dims.slice(a))] }; break; }
      case 'Reshape': y = reshape(x, ints(1)); break;
      case 'Shape': y = { data: Float64Array.from(x.dims), dims: [x.dims.length] }; break;
      case 'Unsqueeze': case 'Squeeze': {
        const raw = opset >= 13 && i(1) ? ints(1) : (attrInts(n, 'axes') ?? []);
        const rank = x.dims.length + (n.opType === 'Unsqueeze' ? raw.length : 0);
        const axes = raw.map((a) => (a < 0 ? a + rank : a));
        let dims = [...x.dims];
        if (n.opType === 'Squeeze') dims = dims.filter((d, k) => (axes.length ? !axes.includes(k) : d !== 1));
        else for (const a of [...axes].sort((p, q) => p - q)) dims.splice(a, 0, 1);
        y = { data: x.data, dims };
        break;
      }
      case 'Transpose': y = transpose(x, attrInts(n, 'perm') ?? x.dims.map((_, k) => x.dims.length - 1 - k)); break;
      case 'Concat': {
        const parts = n.input!.map((name) => env.get(name)!);
        const a = attrInt(n, 'axis', 0) < 0 ? attrInt(n, 'axis', 0) + x.dims.length : attrInt(n, 'axis', 0);
        const outer = size(x.dims.slice(0, a));
        const dims = [...x.dims];
        dims[a] = parts.reduce((s, p) => s + p.dims[a], 0);
        const out = new Float64Array(size(dims));
        let off = 0;
        const row = size(dims.slice(a));
        for (const p of parts) {
          const chunk = size(p.dims.slice(a));
          for (let o = 0; o < outer; o++) out.set(p.data.subarray(o * chunk, (o + 1) * chunk), o * row + off);
          off += chunk;
        }
        y = { data: out, dims };
        break;
      }
      case 'BatchNormalization': {
        const [s, b, mean, v] = [i(1)!, i(2)!, i(3)!, i(4)!];
        const eps = attrFloat(n, 'epsilon', 1e-5);
        const area = size(x.dims.slice(2));
        const C = x.dims[1];
        y = { data: x.data.map((val, j) => { const c = Math.floor(j / area) % C; return ((val - mean.data[c]) / Math.sqrt(v.data[c] + eps)) * s.data[c] + b.data[c]; }), dims: x.dims };
        break;
      }
      case 'Softmax': case 'LogSoftmax': {
        const a = attrInt(n, 'axis', opset >= 13 ? -1 : 1);
        const flat = opset < 13 ? { data: x.data, dims: [size(x.dims.slice(0, a)), size(x.dims.slice(a))] } : x;
        const r = softmax(flat, opset < 13 ? 1 : a, n.opType === 'LogSoftmax');
        y = { data: r.data, dims: x.dims };
        break;
      }
      case 'LRN': {
        const [sz, alpha, beta, bias] = [attrInt(n, 'size', 1), attrFloat(n, 'alpha', 1e-4), attrFloat(n, 'beta', 0.75), attrFloat(n, 'bias', 1)];
        const [, C] = x.dims;
        const area = size(x.dims.slice(2));
        const lo = Math.floor((sz - 1) / 2);
        y = { data: x.data.map((v, j) => {
          const c = Math.floor(j / area) % C;
          let s = 0;
          for (let cc = Math.max(0, c - lo); cc <= Math.min(C - 1, c + sz - 1 - lo); cc++) s += x.data[j + (cc - c) * area] ** 2;
          return v / (bias + (alpha / sz) * s) ** beta;
        }), dims: x.dims };
        break;
      }
      default:
        throw new FoolError('UNSUPPORTED', `the float64 reference has no ${n.opType}`);
    }
    if (Array.isArray(y)) y.forEach((t, k) => env.set(n.output![k], t));
    else env.set(n.output![0], y);
  }
  return Object.fromEntries(outputs.map((o) => [o, env.get(o)!]));
}
