import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { globals, jobResult, limitedIntOption, parseIntOption, pct, progressBar, run, withLab } from '../common';

/** What a 'train' job returns. */
interface TrainOutcome {
  paths: { onnx: string; manifest: string; labels: string; checkpoint: string; name: string };
  stopped: boolean;
  epochsDone: number;
  seconds: number;
  testAccuracy: number | null;
}

interface TrainLenetOptions {
  seed: number;
  epochs: number;
  out: string;
  extraClass?: string;
  optimizer: 'sgd' | 'adam';
  batch: number;
  resume?: boolean;
  workers: number;
  threads: number;
  trainLimit: number;
  testLimit: number;
}

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new InvalidArgumentError(`--seed must be an integer 0..2147483647, got "${v}"`);
  return n;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

/** `fool train lenet`: Caffe's MNIST LeNet, trained here (see core/train). */
export function registerTrain(program: Command): void {
  const train = program.command('train').description('train a classifier of your own');
  train
    .command('lenet')
    .description(
      "train Caffe's MNIST LeNet (lenet_solver: SGD 0.01, momentum 0.9, \"inv\" learning rate, batch 64) on the " +
        '60,000 MNIST training images; writes FILE.onnx, its manifest FILE.json and FILE.labels.txt, and a ' +
        'checkpoint FILE.onnx.ckpt after every epoch',
    )
    .requiredOption('--out <file.onnx>', 'the model to write')
    .option('--seed <n>', 'random seed: the same seed and options give bit-identical weights', parseSeed, 1)
    .option('--epochs <n>', 'epochs to train (Caffe trains ~10.7: 10,000 iterations of 64)', parseIntOption('--epochs'), 10)
    .option('--extra-class <dir-or-runs>', 'add an 11th class "fooling": the 28x28 PNG/JPEG images in DIR, or the fooling images of runs (e.g. 3 or 3,4) of this lab; oversampled to ~6,000')
    .addOption(new Option('--optimizer <name>', 'sgd (Caffe lenet_solver) or adam (lenet_solver_adam)').choices(['sgd', 'adam']).default('sgd'))
    .option('--batch <n>', 'mini-batch size', parseIntOption('--batch'), 64)
    .option(
      '--workers <n>',
      'worker threads, each training on its share of every batch (default 2: two cores); part of what decides the weights, like the seed',
      limitedIntOption('--workers', 'workers'),
      2,
    )
    .option('--threads <n>', 'onnxruntime threads per worker (results are bit-identical only for the same count)', parseIntOption('--threads'), 1)
    .option('--train-limit <n>', 'train on the first n MNIST images only (0 = all 60,000; for quick checks)', parseIntOption('--train-limit', 0, 60_000), 0)
    .option('--test-limit <n>', 'test on the first n MNIST test images only (0 = all 10,000)', parseIntOption('--test-limit', 0, 10_000), 0)
    .option('--resume', 'continue from FILE.onnx.ckpt (the last finished epoch) up to --epochs')
    .addHelpText(
      'after',
      '\nCtrl-C stops after the current batch; the checkpoint of the last finished epoch is kept, and\n' +
        'the same command with --resume continues from it (without --resume it is refused, not trained\n' +
        'over; delete it to start afresh).\n\n' +
        'Example:\n  fool train lenet --seed 1 --epochs 12 --out lenet-seed1.onnx\n',
    )
    .action(
      run(async (cmd) => {
        const o = cmd.opts() as TrainLenetOptions;
        let bar: ReturnType<typeof progressBar> | undefined;
        let barEpoch = 0;
        let r: TrainOutcome;
        try {
          // The core checks --out and the extra class's images in full before any training starts.
          r = await withLab(cmd, async (lab) => {
            const { jobId } = await lab.call('train.start', { out: resolve(o.out), seed: o.seed, epochs: o.epochs, extraClass: o.extraClass, optimizer: o.optimizer, batch: o.batch, workers: o.workers, threads: o.threads, resume: o.resume, trainLimit: o.trainLimit, testLimit: o.testLimit });
            // Ctrl-C: finish the batch, keep the last checkpoint. A second Ctrl-C quits at once.
            const end = await lab.follow(
              jobId,
              (e) => {
                if (e.type !== 'job.progress' || !e.detail) return;
                const d = e.detail as Record<string, number | string>;
                if (d.phase === 'batch') {
                  const p = d as unknown as { epoch: number; epochs: number; batch: number; batches: number; loss: number; imagesPerSecond: number };
                  if (p.epoch !== barEpoch) {
                    bar?.stop();
                    barEpoch = p.epoch;
                    bar = progressBar(
                      `epoch ${p.epoch}/${p.epochs} [{bar}] {value}/{total} batches | loss {loss} | {ips} images/s | epoch ETA {eta_text} | all {left}`,
                      p.batches,
                    );
                  }
                  // Time left for the whole run, at this epoch's pace (each epoch also tests ~10,000 images).
                  const left = (((p.epochs - p.epoch) * p.batches + p.batches - p.batch) * o.batch) / p.imagesPerSecond;
                  bar!.update(p.batch, { loss: p.loss.toFixed(4), ips: Math.round(p.imagesPerSecond), left: formatSeconds(left) });
                } else if (d.phase === 'epoch') {
                  bar?.stop();
                  bar = undefined;
                  barEpoch = 0;
                  const ep = d as unknown as { epoch: number; loss: number; testAccuracy: number; seconds: number };
                  process.stderr.write(`epoch ${ep.epoch}: loss ${ep.loss.toFixed(4)}, test accuracy ${pct(ep.testAccuracy)}, ${ep.seconds.toFixed(1)} s\n`);
                }
              },
              'fool: stopping after this batch (Ctrl-C again to quit now)',
              (m) => (bar ? bar.interrupt(m) : process.stderr.write(`\n${m}\n`)),
            );
            return jobResult<TrainOutcome>(end);
          });
        } finally {
          bar?.stop();
        }
        const { paths } = r;
        if (r.stopped) {
          // Not an error: the user asked for it. Exit code 130 (as for SIGINT) and how to go on.
          const again = ['fool', ...process.argv.slice(2).filter((a) => a !== '--resume'), '--resume'].join(' ');
          process.exitCode = 130;
          return {
            json: { out: null, stopped: true, epochs: r.epochsDone, seconds: r.seconds, testAccuracy: r.testAccuracy, checkpoint: r.epochsDone > 0 ? paths.checkpoint : null, resume: r.epochsDone > 0 ? again : null },
            text:
              r.epochsDone === 0
                ? `training stopped during its first epoch; nothing was written. Run the command again to start over.`
                : `training stopped after ${r.epochsDone} finished epoch(s); ${paths.checkpoint} keeps the last one (${paths.onnx} was not written).\nContinue with: ${again}`,
          };
        }
        // models add reads FILE.json beside the model: the name, preprocessing and labels come from it.
        const q = (v: string) => (/^[\w./:@+-]+$/.test(v) ? v : `'${v.replace(/'/g, "'\\''")}'`);
        const db = globals(cmd).db;
        const register = `fool models add ${q(paths.onnx)}${db ? ` --db ${q(db)}` : ''}`;
        return {
          json: { out: paths.onnx, epochs: r.epochsDone, seconds: r.seconds, testAccuracy: r.testAccuracy, manifest: paths.manifest, register },
          text: `${paths.onnx}: ${r.epochsDone} epochs, MNIST test accuracy ${pct(r.testAccuracy ?? Number.NaN)} (${r.seconds.toFixed(1)} s)
manifest ${paths.manifest}
Register it in this lab with: ${register}`,
        };
      }),
    );
}
