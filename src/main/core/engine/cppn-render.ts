import type { CppnGenome } from '../../../shared/engine';
import { hls8ToRgb8, hsv8ToRgb8 } from './color';
import { geneToWeight } from './cppn';
import { PixelDomains, type PixelDomain } from './cppn-domains';
import { activate } from './cppn-math';
import { CppnReferenceRenderer, type CppnProbe } from './cppn-render-reference';
import type { RenderOptions } from './encoding';

export type { CppnProbe } from './cppn-render-reference';

/**
 * CPPN -> 8-bit HWC pixels (channels 1 or 3, RGB), exactly what the classification service takes:
 * the same bytes as the reference renderer (cppn-render-reference.ts) for every genome, faster.
 *
 * Like the reference, the network is interpreted node by node over arrays of values, one tight loop
 * per connection and one per activation, with the very same float operations in the same order (the
 * incoming connections summed in the genome's order, the bias added last, the same activation code),
 * so every value is bit-identical. What changes is how many values: each node is computed once per
 * distinct combination of the inputs it depends on (cppn-domains.ts), not once per pixel; a node fed
 * by x alone costs one row, a node fed by the bias alone one value. Only nodes that feed an output
 * are computed. The per-genome set-up uses arrays, not maps of maps: on MNIST (28x28) it is a fair
 * share of the work. Math.sin and Math.exp still dominate what is left.
 *
 * Probes (the genome tools: knocked-out nodes, means over the image, every node's plane) are
 * answered by the reference renderer, which computes every pixel.
 */


const BIAS = 3;
/** Depth-first states (0: not yet seen). */
const VISITING = 1;
const DONE = 2;

export class CppnRenderer {
  readonly pixels: number;
  private domains?: PixelDomains;
  private reference?: CppnReferenceRenderer;
  /** Scratch value arrays, one per computed node (each as long as the image); grow to the largest network. */
  private readonly planes: Float64Array[] = [];
  private bytes = [new Int32Array(0), new Int32Array(0), new Int32Array(0)];
  private rgb = new Uint8Array(0);

  constructor(readonly opts: RenderOptions) {
    this.pixels = opts.width * opts.height;
  }

  private plane(k: number): Float64Array {
    while (this.planes.length <= k) this.planes.push(new Float64Array(this.pixels));
    return this.planes[k];
  }

  /**
   * Every node that feeds an output, computed over its domain: values[k] and domain[k] by node index
   * (scratch arrays, valid until the next call); outputs: the output nodes' indices.
   */
  private evaluate(g: CppnGenome): { outputs: number[]; values: Float64Array[]; domain: PixelDomain[] } {
    const nodes = g.nodes;
    const K = nodes.length;
    const outputs: number[] = [];
    const pos = new Map<number, number>();
    for (let k = 0; k < K; k++) {
      pos.set(nodes[k].id, k);
      if (nodes[k].kind === 'output') outputs.push(k);
    }
    if (outputs.length !== this.opts.channels) throw new RangeError(`CPPN has ${outputs.length} outputs, image ${this.opts.channels} channels`);
    const domains = (this.domains ??= new PixelDomains(this.opts));

    // Incoming connections per node in the genome's order (the order of the sum): source (an input
    // id 0..3, or 4 + the source node's index) and weight.
    const from: number[][] = new Array<number[]>(K);
    const weight: number[][] = new Array<number[]>(K);
    for (let k = 0; k < K; k++) {
      from[k] = [];
      weight[k] = [];
    }
    for (const c of g.connections) {
      const t = pos.get(c.to);
      const s = c.from <= BIAS ? c.from : pos.get(c.from);
      if (t === undefined || s === undefined) throw new RangeError(`connection ${c.from} -> ${c.to} names a node the CPPN does not have`);
      from[t].push(c.from <= BIAS ? s : 4 + s);
      weight[t].push(geneToWeight(c.gene, this.opts));
    }

    // The nodes that feed an output, sources first (depth-first from the outputs), each with the
    // mask of the inputs it depends on. Any such order gives the same values.
    const state = new Uint8Array(K);
    const mask = new Uint8Array(K);
    const order: number[] = [];
    const visit = (k: number): void => {
      if (state[k] === DONE) return;
      if (state[k] === VISITING) throw new Error('CPPN has a cycle');
      state[k] = VISITING;
      let m = 0;
      for (const s of from[k]) {
        if (s < BIAS) m |= 1 << s;
        else if (s > BIAS) {
          visit(s - 4);
          m |= mask[s - 4];
        }
      }
      mask[k] = domains.canonical[m];
      state[k] = DONE;
      order.push(k);
    };
    for (const k of outputs) visit(k);

    const values: Float64Array[] = new Array<Float64Array>(K);
    const domain: PixelDomain[] = new Array<PixelDomain>(K);
    for (let o = 0; o < order.length; o++) {
      const k = order[o];
      const dom = (domain[k] = domains.domain(mask[k]));
      const n = dom.size;
      const a = (values[k] = this.plane(o));
      const src = from[k];
      const w = weight[k];
      let bias = 0;
      let first = true;
      for (let j = 0; j < src.length; j++) {
        const s = src[j];
        const wj = w[j];
        if (s === BIAS) {
          bias += wj; // bias input is the constant 1
          continue;
        }
        let v: Float64Array;
        let gather: Int32Array | null = null;
        if (s < BIAS) v = dom.input(s);
        else {
          v = values[s - 4];
          const sd = domain[s - 4];
          if (sd.size !== n) gather = dom.gatherFrom(sd);
        }
        if (gather) {
          if (first) for (let i = 0; i < n; i++) a[i] = wj * v[gather[i]];
          else for (let i = 0; i < n; i++) a[i] += wj * v[gather[i]];
        } else if (first) for (let i = 0; i < n; i++) a[i] = wj * v[i];
        else for (let i = 0; i < n; i++) a[i] += wj * v[i];
        first = false;
      }
      if (first) a.fill(bias, 0, n);
      else if (bias !== 0) for (let i = 0; i < n; i++) a[i] += bias;
      activate(a, nodes[k].activation, n);
    }
    return { outputs, values, domain };
  }

  /**
   * CPPN -> pixels. Each output o gives int(|o| * 255); with 3 outputs those bytes are H,S,V (or H,L,S)
   * and are converted to RGB. Nodes that feed no output are skipped.
   */
  renderCppn(g: CppnGenome, out: Uint8Array = new Uint8Array(this.pixels * this.opts.channels), probe?: CppnProbe): Uint8Array {
    if (probe) return (this.reference ??= new CppnReferenceRenderer(this.opts)).renderCppn(g, out, probe);
    const { channels } = this.opts;
    const N = this.pixels;
    if (out.length !== N * channels) throw new RangeError(`output has ${out.length} bytes, expected ${N * channels}`);
    const { outputs, values, domain } = this.evaluate(g);

    if (channels === 1) {
      const o = values[outputs[0]];
      const dom = domain[outputs[0]];
      const idx = dom.index;
      if (!idx) for (let i = 0; i < N; i++) out[i] = (Math.abs(o[i]) * 255) | 0;
      else {
        const b = this.byteBuffer(0, dom.size);
        for (let e = 0; e < dom.size; e++) b[e] = (Math.abs(o[e]) * 255) | 0;
        for (let i = 0; i < N; i++) out[i] = b[idx[i]];
      }
      return out;
    }
    // Colour: the three output bytes per element of each output's domain, converted to RGB once per
    // element of the domain of all three, then spread over the pixels.
    const doms: PixelDomain[] = [];
    const b: Int32Array[] = [];
    for (let c = 0; c < 3; c++) {
      const o = values[outputs[c]];
      const dom = domain[outputs[c]];
      const bc = this.byteBuffer(c, dom.size);
      for (let e = 0; e < dom.size; e++) bc[e] = (Math.abs(o[e]) * 255) | 0;
      doms.push(dom);
      b.push(bc);
    }
    const all = this.domains!.domain(doms[0].mask | doms[1].mask | doms[2].mask);
    const n = all.size;
    const gathers = doms.map((d) => (d.size === n ? null : all.gatherFrom(d)));
    const rgb = all.index ? (this.rgb.length >= n * 3 ? this.rgb : (this.rgb = new Uint8Array(n * 3))) : out;
    const f = this.opts.colorSpace === 'hsv' ? hsv8ToRgb8 : hls8ToRgb8;
    const [b0, b1, b2] = b;
    const [g0, g1, g2] = gathers;
    for (let e = 0, j = 0; e < n; e++, j += 3) f(b0[g0 ? g0[e] : e], b1[g1 ? g1[e] : e], b2[g2 ? g2[e] : e], rgb, j);
    const idx = all.index;
    if (idx) {
      for (let i = 0, j = 0; i < N; i++, j += 3) {
        const s = idx[i] * 3;
        out[j] = rgb[s];
        out[j + 1] = rgb[s + 1];
        out[j + 2] = rgb[s + 2];
      }
    }
    return out;
  }

  /**
   * The value of every node that feeds an output at every pixel, by node id: what the reference
   * computes before the bytes (the tests compare them bit for bit).
   */
  nodeValues(g: CppnGenome): Map<number, Float64Array> {
    const { values, domain } = this.evaluate(g);
    const out = new Map<number, Float64Array>();
    values.forEach((v, k) => {
      const idx = domain[k].index;
      const full = new Float64Array(this.pixels);
      for (let i = 0; i < this.pixels; i++) full[i] = v[idx ? idx[i] : i];
      out.set(g.nodes[k].id, full);
    });
    return out;
  }

  private byteBuffer(c: number, n: number): Int32Array {
    if (this.bytes[c].length < n) this.bytes[c] = new Int32Array(Math.max(n, this.bytes[c].length * 2));
    return this.bytes[c];
  }
}
