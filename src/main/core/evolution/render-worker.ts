import { parentPort, workerData } from 'node:worker_threads';
import type { Genome } from '../../../shared/engine';
import { Renderer, type RenderOptions } from '../engine/render';
import { serveJobs } from '../workers/pool';

/** Renders genomes to pixels off the main thread: a batch in, one buffer of n images out. */
export interface RenderJob {
  type: 'render';
  id: number;
  genomes: Genome[];
}

const renderer = new Renderer(workerData as RenderOptions);
const per = renderer.pixels * (workerData as RenderOptions).channels;
const port = parentPort!;

serveJobs<RenderJob, Uint8Array>(port, (m) => {
  const out = new Uint8Array(m.genomes.length * per);
  m.genomes.forEach((g, i) => renderer.render(g, out.subarray(i * per, (i + 1) * per)));
  return { value: out, transfer: [out.buffer] };
});
port.postMessage({ type: 'ready' });
