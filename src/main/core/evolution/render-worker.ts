import { parentPort, workerData } from 'node:worker_threads';
import type { Encoding, Genome } from '../../../shared/engine';
import { encodingOf } from '../engine/encodings';
import { Renderer, type RenderOptions } from '../engine/render';
import { serveJobs } from '../workers/pool';

/**
 * Renders genomes to pixels off the main thread: a batch in (the genomes, or packed by their
 * encoding into one transferred array), one buffer of n images out.
 */
export type RenderJob = { type: 'render'; id: number } & ({ genomes: Genome[] } | { packed: Float64Array; encoding: Encoding });

const renderer = new Renderer(workerData as RenderOptions);
const per = renderer.pixels * (workerData as RenderOptions).channels;
const port = parentPort!;

serveJobs<RenderJob, Uint8Array>(port, (m) => {
  const genomes = 'genomes' in m ? m.genomes : encodingOf(m.encoding).unpack!(m.packed);
  const out = new Uint8Array(genomes.length * per);
  genomes.forEach((g, i) => renderer.render(g, out.subarray(i * per, (i + 1) * per)));
  return { value: out, transfer: [out.buffer] };
});
port.postMessage({ type: 'ready' });
