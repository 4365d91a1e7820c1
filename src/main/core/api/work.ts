import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import * as ort from 'onnxruntime-node';
import { FoolError } from '../../../shared/errors';
import { parseClasses, runAscent } from '../ascent/ascent';
import { exportFoolingDataset } from '../experiments/dataset-export';
import { foolingImages } from '../experiments/fooling-set';
import { chooseProvider, cpuCount, cudaInstalled, defaultParallelism, detectGpu, onnxruntimeVersion } from '../models/provider';
import { settingsFor, trainLenetFile } from '../train/trainer';
import type { ApiContext, Handlers } from './context';

type Methods = 'ascent.start' | 'train.start' | 'dataset.export' | 'doctor.info';

/** Gradient ascent and training (jobs), the fooling dataset export, and what the machine offers. */
export function workHandlers(ctx: ApiContext): Handlers<Methods> {
  const { lab } = ctx;
  return {
    'ascent.start': (p) => {
      const info = lab.models.get(p.model);
      const classes = parseClasses(p.classes, info.labels.length, p.seed);
      const job = ctx.jobs.start('ascent', async (jc) => {
        jc.progress({ done: 0, total: classes.length });
        const outcome = await runAscent(
          lab,
          { model: p.model, classes, workers: p.workers, settings: { seed: p.seed, steps: p.steps, stepRule: p.stepRule, stepSize: p.stepSize, objective: p.objective, decay: p.decay, blurSigma: p.blur, target: p.target } },
          (done, total, best) => {
            const sorted = [...best].sort((a, b) => a - b);
            jc.progress({ done, total, detail: { median: sorted.length ? sorted[Math.floor(sorted.length / 2)] : null } });
          },
          jc.signal,
        );
        jc.ids({ runId: outcome.runId });
        const results = outcome.results.map((r) => ({ class: r.class, label: r.label, confidence: r.confidence, steps: r.steps, stepsTo: r.stepsTo }));
        return { runId: outcome.runId, model: p.model, seconds: outcome.seconds, target: p.target, done: outcome.done, results };
      });
      return { jobId: job.jobId };
    },
    'train.start': (p) => {
      const settings = settingsFor(p.optimizer, p.seed, p.epochs, { batch: p.batch, workers: p.workers, threads: p.threads, ...(p.trainLimit > 0 ? { trainLimit: p.trainLimit } : {}) });
      // --extra-class 3,4: the fooling images of runs of this lab (each cell's first and final champion).
      const fromRuns = p.extraClass !== undefined && /^\d+(,\d+)*$/.test(p.extraClass) && !existsSync(p.extraClass);
      const extraImages = fromRuns ? runImages(ctx, p.extraClass!) : undefined;
      const job = ctx.jobs.start('train', async (jc) => {
        const { paths, result } = await trainLenetFile(settings, {
          out: p.out,
          ...(extraImages ? { extraImages } : { extraClassDir: p.extraClass }),
          resume: p.resume,
          testLimit: p.testLimit,
          signal: jc.signal,
          onProgress: (e) => jc.progress({ done: e.batch, total: e.batches, detail: { phase: 'batch', ...e } }),
          onEpoch: (e) => jc.progress({ message: `epoch ${e.epoch}`, detail: { phase: 'epoch', epoch: e.epoch, loss: e.loss, testAccuracy: e.testAccuracy, seconds: e.seconds } }),
        });
        // The weights stay out of the job's result (it travels as an event).
        // testAccuracy is NaN before the first epoch ends: null, as JSON would carry it anyway.
        return { paths, stopped: result.stopped, epochsDone: result.epochsDone, seconds: result.seconds, testAccuracy: Number.isFinite(result.testAccuracy) ? result.testAccuracy : null };
      });
      return { jobId: job.jobId };
    },
    'dataset.export': async (p) => exportFoolingDataset(lab, p.runs, p.outDir, { className: p.className }),
    'doctor.info': () => {
      const choice = chooseProvider('auto');
      const par = defaultParallelism(choice.provider);
      return {
        node: process.version,
        onnxruntime: onnxruntimeVersion(),
        providers: ort.listSupportedBackends().map((b) => ({ name: b.name, installed: b.bundled })),
        cudaInstalled: cudaInstalled(),
        gpu: detectGpu(),
        provider: choice.provider,
        reason: choice.reason,
        cpu: { model: cpus()[0]?.model ?? 'unknown', cores: cpuCount(), memoryGiB: +(totalmem() / 2 ** 30).toFixed(1) },
        workers: par.workers,
        threadsPerWorker: par.threadsPerWorker,
        db: lab.dbPath,
      };
    },
  };
}

/** Fooling images of runs for an extra training class: they must be 28x28 grey (runs against an MNIST model). */
function runImages(ctx: ApiContext, spec: string): Uint8Array[] {
  const images = foolingImages(ctx.lab, spec.split(',').map(Number));
  for (const f of images) {
    if (f.image.width !== 28 || f.image.height !== 28 || f.image.channels !== 1) {
      throw new FoolError('MISMATCH', `run ${f.runId}'s images are ${f.image.width}x${f.image.height}x${f.image.channels}, the extra class needs 28x28 grey`, 'Use runs made against an MNIST model');
    }
  }
  return images.map((f) => f.image.data);
}
