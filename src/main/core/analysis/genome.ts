import { CPPN_INPUTS, type CppnGenome } from '../../../shared/engine';
import { FoolError } from '../../../shared/errors';
import type { GenomeEdit, PeriodicElement, Removal, RepetitionReport } from '../../../shared/genome';
import { cloneCppn, geneToWeight, isInputId } from '../engine/cppn';
import { Renderer, type RenderOptions } from '../engine/render';
import type { Rng } from '../engine/rng';
import { detectPeriod, type PeriodicityOptions } from './periodicity';

/**
 * Ablation in the genome: the paper removed repeated copies from images; here the element that
 * makes them, a node or a connection of the CPPN, is switched off and the image rendered again with
 * the engine's own renderer. Pure: genome and render settings in, pixels and reports out.
 */

/** A node's label as the app shows it: x, y, d, bias; the outputs' channels; h<id> for hidden nodes. */
export function nodeLabels(g: CppnGenome, o: Pick<RenderOptions, 'channels' | 'colorSpace'>): Map<number, string> {
  const outs = o.channels === 1 ? ['grey'] : o.colorSpace === 'hls' ? ['H', 'L', 'S'] : ['H', 'S', 'V'];
  const labels = new Map<number, string>(CPPN_INPUTS.map((l, i) => [i, l]));
  let k = 0;
  for (const n of g.nodes) labels.set(n.id, n.kind === 'output' ? (outs[k++] ?? `out${n.id}`) : `h${n.id}`);
  return labels;
}

const known = (g: CppnGenome) => `nodes: ${g.nodes.map((n) => n.id).join(', ')}`;

/**
 * The genome with the edits applied, plus the nodes held constant (switched off). Every id is
 * checked: an edit naming a node or connection the genome does not have is refused.
 */
export function applyEdits(g: CppnGenome, edits: readonly GenomeEdit[], o: Pick<RenderOptions, 'weightMin' | 'weightMax'>): { genome: CppnGenome; zero: Set<number>; mean: Set<number> } {
  const out = cloneCppn(g);
  const zero = new Set<number>();
  const mean = new Set<number>();
  const ids = new Set(g.nodes.map((n) => n.id));
  const conn = (from: number, to: number) => {
    const c = out.connections.find((x) => x.from === from && x.to === to);
    if (!c) {
      throw new FoolError(
        'BAD_INPUT',
        `this CPPN has no connection ${from} -> ${to}`,
        `Name a connection of the genome (${out.connections.map((x) => `${x.from}->${x.to}`).join(', ') || 'it has none'})`,
      );
    }
    return c;
  };
  const gene = (w: number) => (w - o.weightMin) / (o.weightMax - o.weightMin);
  for (const e of edits) {
    if (e.op === 'node-off' || e.op === 'scale-in') {
      if (isInputId(e.node)) {
        throw new FoolError('BAD_INPUT', `node ${e.node} is the input "${CPPN_INPUTS[e.node]}"; inputs cannot be switched off`, 'Switch off its connections instead, or name a hidden or output node');
      }
      if (!ids.has(e.node)) throw new FoolError('BAD_INPUT', `this CPPN has no node ${e.node}`, `Name a node of the genome (${known(g)})`);
    }
    switch (e.op) {
      case 'node-off':
        (e.value === 'mean' ? mean : zero).add(e.node);
        (e.value === 'mean' ? zero : mean).delete(e.node);
        break;
      case 'connection-off':
        conn(e.from, e.to).gene = gene(0);
        break;
      case 'weight':
        if (e.weight < o.weightMin || e.weight > o.weightMax) {
          throw new FoolError('BAD_INPUT', `weight ${e.weight} is outside the run's range [${o.weightMin}, ${o.weightMax}]`, 'Choose a weight within the range');
        }
        conn(e.from, e.to).gene = gene(e.weight);
        break;
      case 'scale-in':
        for (const c of out.connections) {
          if (c.to === e.node && c.from !== 3) c.gene = gene(geneToWeight(c.gene, o) * e.factor);
        }
        break;
    }
  }
  return { genome: out, zero, mean };
}

export interface NodePlanes {
  /** The rendered image (HWC bytes, what the classifier takes). */
  image: Uint8Array;
  /** Every node's output over the image (copies), by node id. */
  planes: Map<number, Float64Array>;
  /** Each computed node's pre-activation range over the image. */
  ranges: Map<number, { min: number; max: number }>;
  /** Nodes that feed an output. */
  used: Set<number>;
}

/** Renders the (edited) genome and keeps every node's activation. */
export function renderWithPlanes(renderer: Renderer, g: CppnGenome, edits: readonly GenomeEdit[] = []): NodePlanes {
  const { genome, zero, mean } = applyEdits(g, edits, renderer.opts);
  const planes = new Map<number, Float64Array>();
  const ranges = new Map<number, { min: number; max: number }>();
  const image = renderer.renderCppn(genome, undefined, {
    all: true,
    constants: new Map([...zero].map((id) => [id, 0])),
    means: mean,
    onPlane: (id, a, r) => {
      planes.set(id, Float64Array.from(a));
      ranges.set(id, r);
    },
  });
  return { image, planes, ranges, used: usedNodes(genome) };
}

/** Renders the genome with the edits: the image the network is shown. */
export function renderEdited(renderer: Renderer, g: CppnGenome, edits: readonly GenomeEdit[]): Uint8Array {
  const { genome, zero, mean } = applyEdits(g, edits, renderer.opts);
  return renderer.renderCppn(genome, undefined, { constants: new Map([...zero].map((id) => [id, 0])), means: mean });
}

/** Nodes with a path to an output (the others cannot change the image). */
export function usedNodes(g: CppnGenome): Set<number> {
  const incoming = new Map<number, number[]>();
  for (const c of g.connections) incoming.set(c.to, [...(incoming.get(c.to) ?? []), c.from]);
  const used = new Set<number>();
  const stack = g.nodes.filter((n) => n.kind === 'output').map((n) => n.id);
  while (stack.length) {
    const id = stack.pop()!;
    if (used.has(id) || isInputId(id)) continue;
    used.add(id);
    stack.push(...(incoming.get(id) ?? []));
  }
  return used;
}

/**
 * A node's activation as a grey image: -1 black, 0 mid-grey, +1 white (every activation of the
 * engine stays within [-1, 1]), so a node switched off to 0 shows as flat grey.
 */
export function activationImage(plane: Float64Array): Uint8Array {
  const out = new Uint8Array(plane.length);
  for (let i = 0; i < plane.length; i++) {
    const v = plane[i] < -1 ? -1 : plane[i] > 1 ? 1 : plane[i];
    out[i] = Math.round((v + 1) * 127.5);
  }
  return out;
}

/**
 * Which nodes make the repetition, and the edits that remove it. A node is periodic when its
 * activation image is (analysis/periodicity); an origin is a periodic node none of whose parents
 * is, where the repetition starts. Removal acts on the origins only and keeps the rest:
 * - knockout: each origin's output replaced by its mean over the image;
 * - frequency: each origin's incoming weights (not its bias) scaled so that its pre-activation spans
 *   at most one period of its sine over the whole image (2 pi): one period covers the image. An
 *   origin that is not a sine is knocked out instead.
 */
export function findRepetition(renderer: Renderer, g: CppnGenome, opts: PeriodicityOptions = {}, planes?: NodePlanes): RepetitionReport {
  const p = planes ?? renderWithPlanes(renderer, g);
  const { width, height } = renderer.opts;
  const labels = nodeLabels(g, renderer.opts);
  const parents = new Map<number, { from: number; weight: number }[]>();
  for (const c of g.connections) parents.set(c.to, [...(parents.get(c.to) ?? []), { from: c.from, weight: geneToWeight(c.gene, renderer.opts) }]);
  const found = new Map<number, ReturnType<typeof detectPeriod>>();
  for (const n of g.nodes) if (p.used.has(n.id)) found.set(n.id, detectPeriod(p.planes.get(n.id)!, width, height, opts));
  const elements: PeriodicElement[] = [];
  for (const n of g.nodes) {
    const f = found.get(n.id);
    if (!f) continue;
    const ins = (parents.get(n.id) ?? []).filter((c) => c.weight !== 0);
    elements.push({
      node: n.id,
      label: labels.get(n.id)!,
      period: f.period,
      kind: f.kind,
      angle: f.angle,
      strength: f.strength,
      origin: !ins.some((c) => !isInputId(c.from) && found.get(c.from)),
      inputs: ins.map((c) => ({ from: c.from, label: labels.get(c.from) ?? String(c.from), weight: c.weight })),
    });
  }
  const origins = elements.filter((e) => e.origin).map((e) => e.node);
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const frequency: GenomeEdit[] = origins.map((id) => {
    const r = p.ranges.get(id);
    const span = r ? r.max - r.min : Number.NaN;
    if (byId.get(id)!.activation !== 'sine' || !(span > 0)) return { op: 'node-off', node: id, value: 'mean' };
    return { op: 'scale-in', node: id, factor: Math.min(1, (2 * Math.PI) / span) };
  });
  return {
    elements,
    removal: {
      knockout: origins.map((id) => ({ op: 'node-off', node: id, value: 'mean' })),
      frequency,
    },
  };
}

/**
 * The control of a removal: the same operations on as many nodes drawn at random among those that
 * feed an output and do not repeat (seeded), each of the same kind (hidden or output) as the node it
 * stands in for where one is left, else of the other kind: the count matches whenever the genome has
 * enough non-repeating nodes. Fewer when it has fewer; null when it has none.
 */
export function controlEdits(g: CppnGenome, report: RepetitionReport, removal: Removal, used: Set<number>, rng: Rng): GenomeEdit[] | null {
  const periodic = new Set(report.elements.map((e) => e.node));
  const kind = new Map(g.nodes.map((n) => [n.id, n.kind]));
  const pools = {
    hidden: g.nodes.filter((n) => n.kind === 'hidden' && used.has(n.id) && !periodic.has(n.id)).map((n) => n.id),
    output: g.nodes.filter((n) => n.kind === 'output' && used.has(n.id) && !periodic.has(n.id)).map((n) => n.id),
  };
  const out: GenomeEdit[] = [];
  for (const e of report.removal[removal]) {
    if (e.op !== 'node-off' && e.op !== 'scale-in') continue;
    const same = kind.get(e.node) ?? 'hidden';
    const pool = pools[same].length ? pools[same] : pools[same === 'hidden' ? 'output' : 'hidden'];
    if (pool.length === 0) continue;
    // Without replacement: the drawn node leaves its pool.
    const [id] = pool.splice(rng.below(pool.length), 1);
    out.push({ ...e, node: id });
  }
  return out.length ? out : null;
}
