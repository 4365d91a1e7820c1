import { ACTIVATIONS, CPPN_INPUTS, CppnSettingsSchema, type CppnGenome, type EvolutionSettings, type Genome } from '../../../../shared/engine';
import { geneToWeight, mutateCppn, randomCppn } from '../cppn';
import { CppnRenderer } from '../cppn-render';
import { expectGenome, expectSettings, type GenomeEncoding, type RenderOptions } from '../encoding';

const ACTIVATION_INDEX = new Map(ACTIVATIONS.map((a, i) => [a, i]));

/**
 * The CPPN encoding (paper-spec section 4): a small network drawn over the pixel coordinates.
 * Operators in engine/cppn.ts, the interpreter in engine/cppn-render.ts; stored as JSON text.
 */
export const cppnEncoding: GenomeEncoding = {
  name: 'cppn',
  settingsSchema: CppnSettingsSchema,

  random(settings, rng) {
    return { encoding: 'cppn', cppn: randomCppn(expectSettings(settings, 'cppn').channels, rng) };
  },

  vary(parent, _pool, settings, _generation, rng) {
    const s = expectSettings(settings, 'cppn');
    return { genome: { encoding: 'cppn', cppn: mutateCppn(expectGenome(parent.genome, 'cppn').cppn, s.cppn, rng).genome } };
  },

  renderer(opts) {
    const r = new CppnRenderer(opts);
    return (genome, out) => r.renderCppn(expectGenome(genome, 'cppn').cppn, out);
  },

  /** [count, then per genome: nodes, connections, nextNodeId, (id, output 1 | hidden 0, activation) per node, (from, to, gene) per connection]. */
  pack(genomes) {
    let size = 1;
    const gs = genomes.map((g) => expectGenome(g, 'cppn').cppn);
    for (const g of gs) size += 3 + 3 * g.nodes.length + 3 * g.connections.length;
    const a = new Float64Array(size);
    let o = 0;
    a[o++] = gs.length;
    for (const g of gs) {
      a[o++] = g.nodes.length;
      a[o++] = g.connections.length;
      a[o++] = g.nextNodeId;
      for (const n of g.nodes) {
        a[o++] = n.id;
        a[o++] = n.kind === 'output' ? 1 : 0;
        a[o++] = ACTIVATION_INDEX.get(n.activation)!;
      }
      for (const c of g.connections) {
        a[o++] = c.from;
        a[o++] = c.to;
        a[o++] = c.gene;
      }
    }
    return a;
  },

  unpack(a) {
    const out: Genome[] = [];
    let o = 1;
    for (let k = 0; k < a[0]; k++) {
      const K = a[o++];
      const C = a[o++];
      const g: CppnGenome = { nodes: [], connections: [], nextNodeId: a[o++] };
      for (let i = 0; i < K; i++, o += 3) g.nodes.push({ id: a[o], kind: a[o + 1] === 1 ? 'output' : 'hidden', activation: ACTIVATIONS[a[o + 2]] });
      for (let i = 0; i < C; i++, o += 3) g.connections.push({ from: a[o], to: a[o + 1], gene: a[o + 2] });
      out.push({ encoding: 'cppn', cppn: g });
    }
    return out;
  },

  renderOptions(settings: EvolutionSettings): RenderOptions {
    const s = expectSettings(settings, 'cppn');
    return { width: s.width, height: s.height, channels: s.channels, colorSpace: s.colorSpace, coordinates: s.cppn.coordinates, weightMin: s.cppn.weightMin, weightMax: s.cppn.weightMax };
  },

  encode(genome) {
    return new TextEncoder().encode(JSON.stringify(expectGenome(genome, 'cppn').cppn));
  },

  decode(bytes) {
    return { encoding: 'cppn', cppn: JSON.parse(new TextDecoder().decode(bytes)) };
  },

  storesDeltas: false,

  /** The network as the app draws it: inputs, outputs named for the channels they paint, weights. */
  describe(genome, settings) {
    const g = expectGenome(genome, 'cppn').cppn;
    const s = expectSettings(settings, 'cppn');
    const outNames = s.channels === 1 ? ['grey'] : s.colorSpace === 'hls' ? ['H', 'L', 'S'] : ['H', 'S', 'V'];
    let k = 0;
    return {
      cppn: {
        nodes: [
          ...CPPN_INPUTS.map((label, id) => ({ id, kind: 'input' as const, activation: null, label })),
          ...g.nodes.map((n) => ({ id: n.id, kind: n.kind, activation: n.activation, label: n.kind === 'output' ? (outNames[k++] ?? `out${n.id}`) : `h${n.id}` })),
        ],
        connections: g.connections.map((c) => ({ from: c.from, to: c.to, weight: geneToWeight(c.gene, s.cppn) })),
      },
    };
  },

  exportJson(genome) {
    return expectGenome(genome, 'cppn').cppn;
  },
};
