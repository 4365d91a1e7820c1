import type { CppnGenome } from '../../../shared/engine';
import { hls8ToRgb8, hsv8ToRgb8 } from './color';
import { geneToWeight, isInputId, topologicalOrder } from './cppn';
import { activate, coordinatePlanes } from './cppn-math';
import type { RenderOptions } from './encoding';

/**
 * The reference CPPN renderer: CPPN -> 8-bit HWC pixels (channels 1 or 3, RGB), the definition of
 * the pixels every run has been made with. It is kept unchanged because stored runs are resumed and
 * re-rendered: the fast renderer (cppn-render.ts) must give these bytes for every genome (a test
 * compares them), and the genome tools' probes (CppnProbe: knocked-out nodes, means, every node's
 * plane) run here.
 *
 * A CPPN is interpreted node by node over whole arrays holding every pixel at once, in topological
 * order: one tight loop per connection and one per activation, instead of walking the graph per pixel.
 * Scratch arrays are kept across calls; only the returned image is allocated (unless `out` is given).
 */


/**
 * What the genome tools (analysis/genome.ts) ask of a CPPN rendering beyond the pixels: nodes whose
 * output is held at a constant (a knocked-out node) or at its own mean, every node evaluated (also
 * those feeding no output), and each node's output plane as it is computed.
 */
export interface CppnProbe {
  /** Node id -> the constant that replaces its output at every pixel. */
  constants?: ReadonlyMap<number, number>;
  /** Nodes whose output is replaced by its own mean over the image (computed, then flattened). */
  means?: ReadonlySet<number>;
  /** Evaluate every node, not only the ancestors of an output. */
  all?: boolean;
  /** Called with each node's output (after its activation, or its constant); the array is scratch: copy it. */
  onPlane?: (nodeId: number, values: Float64Array, preActivation: { min: number; max: number }) => void;
}

export class CppnReferenceRenderer {
  readonly pixels: number;
  /** Input planes: x, y, d (the bias is folded in as a constant). */
  private readonly inputs: Float64Array[];
  /** One scratch plane per evaluated node; grows to the largest network seen. */
  private readonly planes: Float64Array[] = [];

  constructor(readonly opts: RenderOptions) {
    const { width: W, height: H } = opts;
    this.pixels = W * H;
    this.inputs = coordinatePlanes(opts);
  }

  private plane(k: number): Float64Array {
    while (this.planes.length <= k) this.planes.push(new Float64Array(this.pixels));
    return this.planes[k];
  }

  /**
   * CPPN -> pixels. Each output o gives int(|o| * 255); with 3 outputs those bytes are H,S,V (or H,L,S)
   * and are converted to RGB. Nodes that feed no output are skipped.
   */
  renderCppn(g: CppnGenome, out: Uint8Array = new Uint8Array(this.pixels * this.opts.channels), probe?: CppnProbe): Uint8Array {
    const { channels } = this.opts;
    const N = this.pixels;
    if (out.length !== N * channels) throw new RangeError(`output has ${out.length} bytes, expected ${N * channels}`);
    const outputs = g.nodes.filter((n) => n.kind === 'output');
    if (outputs.length !== channels) throw new RangeError(`CPPN has ${outputs.length} outputs, image ${channels} channels`);

    // incoming connections per node, and the nodes that matter (ancestors of an output)
    const incoming = new Map<number, Array<[number, number]>>();
    for (const n of g.nodes) incoming.set(n.id, []);
    for (const c of g.connections) incoming.get(c.to)!.push([c.from, geneToWeight(c.gene, this.opts)]);
    const needed = new Set<number>();
    const stack = outputs.map((n) => n.id);
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (needed.has(id)) continue;
      needed.add(id);
      for (const [from] of incoming.get(id)!) if (!isInputId(from)) stack.push(from);
    }

    const slot = new Map<number, Float64Array>();
    let k = 0;
    for (const node of topologicalOrder(g)) {
      if (!needed.has(node.id) && !probe?.all) continue;
      const a = this.plane(k++);
      slot.set(node.id, a);
      const constant = probe?.constants?.get(node.id);
      if (constant !== undefined) {
        a.fill(constant);
        probe?.onPlane?.(node.id, a, { min: Number.NaN, max: Number.NaN });
        continue;
      }
      let bias = 0;
      let first = true;
      for (const [from, w] of incoming.get(node.id)!) {
        if (from === 3) {
          bias += w; // bias input is the constant 1
          continue;
        }
        const src = from < 3 ? this.inputs[from] : slot.get(from)!;
        if (first) {
          for (let i = 0; i < N; i++) a[i] = w * src[i];
          first = false;
        } else {
          for (let i = 0; i < N; i++) a[i] += w * src[i];
        }
      }
      if (first) a.fill(bias);
      else if (bias !== 0) for (let i = 0; i < N; i++) a[i] += bias;
      let range = { min: Number.NaN, max: Number.NaN };
      if (probe?.onPlane) {
        let lo = Number.POSITIVE_INFINITY;
        let hi = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < N; i++) {
          if (a[i] < lo) lo = a[i];
          if (a[i] > hi) hi = a[i];
        }
        range = { min: lo, max: hi };
      }
      activate(a, node.activation);
      if (probe?.means?.has(node.id)) {
        let sum = 0;
        for (let i = 0; i < N; i++) sum += a[i];
        a.fill(sum / N);
      }
      probe?.onPlane?.(node.id, a, range);
    }

    if (channels === 1) {
      const o = slot.get(outputs[0].id)!;
      for (let i = 0; i < N; i++) out[i] = (Math.abs(o[i]) * 255) | 0;
      return out;
    }
    const [c0, c1, c2] = outputs.map((n) => slot.get(n.id)!);
    const f = this.opts.colorSpace === 'hsv' ? hsv8ToRgb8 : hls8ToRgb8;
    for (let i = 0, j = 0; i < N; i++, j += 3) {
      f((Math.abs(c0[i]) * 255) | 0, (Math.abs(c1[i]) * 255) | 0, (Math.abs(c2[i]) * 255) | 0, out, j);
    }
    return out;
  }
}
