import { Command, InvalidArgumentError, Option } from 'commander';
import { settingsFor, trainLenetFile, type OptimizerName, type OutputPaths, type TrainResult } from '../../core/train/trainer';
import { existsSync } from 'node:fs';
import { FoolError } from '../../../shared/errors';
import { foolingImages } from '../../core/experiments/fooling-set';
import { Lab } from '../../core/lab';
import { globals, parseIntOption, pct, progressBar, run, stopOnSigint } from '../common';

/**
 * --extra-class RUN[,RUN...]: the runs' fooling images (each cell's first and final champion, as
 * the paper's retraining took them), which must be 28x28 grey (runs against an MNIST model).
 */
function runImages(dbPath: string, spec: string): Uint8Array[] {
  const lab = new Lab(dbPath);
  try {
    const ids = spec.split(',').map(Number);
    const images = foolingImages(lab, ids);
    for (const f of images) {
      if (f.image.width !== 28 || f.image.height !== 28 || f.image.channels !== 1) {
        throw new FoolError('MISMATCH', `run ${f.runId}'s images are ${f.image.width}x${f.image.height}x${f.image.channels}, the extra class needs 28x28 grey`, 'Use runs made against an MNIST model');
      }
    }
    return images.map((f) => f.image.data);
  } finally {
    lab.close();
  }
}

interface TrainLenetOptions {
  seed: number;
  epochs: number;
  out: string;
  extraClass?: string;
  optimizer: OptimizerName;
  batch: number;
  resume?: boolean;
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
    .option('--threads <n>', 'onnxruntime threads (results are bit-identical only for the same count)', parseIntOption('--threads'), 1)
    .option('--train-limit <n>', 'train on the first n MNIST images only (0 = all 60,000; for quick checks)', parseIntOption('--train-limit', 0, 60_000), 0)
    .option('--test-limit <n>', 'test on the first n MNIST test images only (0 = all 10,000)', parseIntOption('--test-limit', 0, 10_000), 0)
    .option('--resume', 'continue from FILE.onnx.ckpt (the last finished epoch) up to --epochs')
    .addHelpText(
      'after',
      '\nCtrl-C stops after the current batch; the checkpoint of the last finished epoch is kept, and\n' +
        'the same command with --resume continues from it.\n\n' +
        'Example:\n  fool train lenet --seed 1 --epochs 12 --out lenet-seed1.onnx\n',
    )
    .action(
      run(async (cmd) => {
        const o = cmd.opts() as TrainLenetOptions;
        const settings = settingsFor(o.optimizer, o.seed, o.epochs, { batch: o.batch, threads: o.threads, ...(o.trainLimit > 0 ? { trainLimit: o.trainLimit } : {}) });

        // Ctrl-C: finish the batch, keep the last checkpoint. A second Ctrl-C quits at once.
        let bar: ReturnType<typeof progressBar> | undefined;
        let barEpoch = 0;
        const abort = stopOnSigint('fool: stopping after this batch (Ctrl-C again to quit now)', (m) => (bar ? bar.interrupt(m) : process.stderr.write(`\n${m}\n`)));

        let result: TrainResult;
        let paths: OutputPaths;
        try {
          // Checks --out and the extra class's images in full before any training starts.
          ({ paths, result } = await trainLenetFile(settings, {
            out: o.out,
            ...(o.extraClass && /^\d+(,\d+)*$/.test(o.extraClass) && !existsSync(o.extraClass)
              ? { extraImages: runImages(globals(cmd).dbPath, o.extraClass) }
              : { extraClassDir: o.extraClass }),
            resume: o.resume,
            testLimit: o.testLimit,
            signal: abort.signal,
            onProgress: (p) => {
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
            },
            onEpoch: (e) => {
              bar?.stop();
              bar = undefined;
              barEpoch = 0;
              const line = `epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, test accuracy ${pct(e.testAccuracy)}, ${e.seconds.toFixed(1)} s`;
              process.stderr.write(line + '\n');
            },
          }));
        } finally {
          bar?.stop();
          abort.dispose();
        }
        if (result.stopped) {
          // Not an error: the user asked for it. Exit code 130 (as for SIGINT) and how to go on.
          const again = ['fool', ...process.argv.slice(2).filter((a) => a !== '--resume'), '--resume'].join(' ');
          process.exitCode = 130;
          return {
            json: { out: null, stopped: true, epochs: result.epochsDone, seconds: result.seconds, testAccuracy: result.testAccuracy, checkpoint: result.epochsDone > 0 ? paths.checkpoint : null, resume: result.epochsDone > 0 ? again : null },
            text:
              result.epochsDone === 0
                ? `training stopped during its first epoch; nothing was written. Run the command again to start over.`
                : `training stopped after ${result.epochsDone} finished epoch(s); ${paths.checkpoint} keeps the last one (${paths.onnx} was not written).\nContinue with: ${again}`,
          };
        }
        return {
          json: { out: paths.onnx, epochs: result.epochsDone, seconds: result.seconds, testAccuracy: result.testAccuracy },
          text: `${paths.onnx}: ${result.epochsDone} epochs, MNIST test accuracy ${pct(result.testAccuracy)} (${result.seconds.toFixed(1)} s)\nmanifest ${paths.manifest}`,
        };
      }),
    );
}
