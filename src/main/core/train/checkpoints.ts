import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { FoolError } from '../../../shared/errors';
import { lenetParams, type LenetWeights } from './lenet';
import type { OptimizerState } from './optimiser';
import { DEFAULT_SETTINGS, type EpochStats, type TrainSettings } from './settings';

/**
 * Checkpoints: FILE.onnx.ckpt = 4-byte header length, a JSON header, then float32 weights and
 * optimiser buffers in lenetParams order. Written atomically after every finished epoch.
 */

// optimiser buffers in lenetParams order. Written atomically after every finished epoch.

interface CheckpointHeader {
  format: 'fooling-lab-lenet-checkpoint';
  version: 1;
  settings: TrainSettings;
  epoch: number;
  iter: number;
  history: EpochStats[];
  /** Float counts of the arrays that follow, in order. */
  sizes: number[];
}

export function checkpointPathFor(out: string): string {
  return `${out}.ckpt`;
}

/** Writes `data` to `path` through a temporary file and a rename: readers never see half a file. */
export function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new FoolError('IO', `cannot write ${path} (${(e as Error).message})`, 'Check that the folder exists and is writable');
  }
}

export function saveCheckpoint(path: string, settings: TrainSettings, epoch: number, weights: LenetWeights, state: OptimizerState, history: EpochStats[]): void {
  const params = lenetParams(settings.classes);
  const arrays = [...params.map((p) => weights.get(p.name)!), ...state.buffers];
  const header: CheckpointHeader = {
    format: 'fooling-lab-lenet-checkpoint',
    version: 1,
    settings,
    epoch,
    iter: state.iter,
    history,
    sizes: arrays.map((a) => a.length),
  };
  const json = Buffer.from(JSON.stringify(header));
  const pad = (4 - ((4 + json.length) % 4)) % 4; // keep the floats 4-byte aligned
  const floats = arrays.reduce((s, a) => s + a.length, 0);
  const buf = Buffer.alloc(4 + json.length + pad + floats * 4, 0x20);
  buf.writeUInt32LE(json.length + pad, 0);
  json.copy(buf, 4);
  let off = 4 + json.length + pad;
  for (const a of arrays) {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, off);
    off += a.byteLength;
  }
  writeAtomic(path, buf);
}

export function loadCheckpoint(path: string): { header: CheckpointHeader; weights: LenetWeights; state: OptimizerState } {
  let header: CheckpointHeader;
  let buf: Buffer;
  try {
    buf = readFileSync(path);
    const len = buf.readUInt32LE(0);
    header = JSON.parse(buf.subarray(4, 4 + len).toString('utf8')) as CheckpointHeader;
    if (header.format !== 'fooling-lab-lenet-checkpoint' || header.version !== 1) throw new Error('not a LeNet checkpoint');
    header.settings = { ...DEFAULT_SETTINGS, ...header.settings }; // settings added since it was written
    let off = 4 + len;
    const arrays = header.sizes.map((n) => {
      if (off + n * 4 > buf.length) throw new Error('truncated');
      const a = new Float32Array(n);
      Buffer.from(a.buffer).set(buf.subarray(off, off + n * 4));
      off += n * 4;
      return a;
    });
    const params = lenetParams(header.settings.classes);
    const weights: LenetWeights = new Map(params.map((p, k) => [p.name, arrays[k]]));
    return { header, weights, state: { iter: header.iter, buffers: arrays.slice(params.length) } };
  } catch (e) {
    throw new FoolError(
      'BAD_INPUT',
      `${path} is not a readable training checkpoint (${(e as Error).message})`,
      'Delete it and train again without --resume',
    );
  }
}

/** Settings that must agree between a checkpoint and a resumed run (epochs may grow). */
export const RESUME_KEYS: (keyof TrainSettings)[] = [
  'seed', 'batch', 'optimizer', 'lr', 'momentum', 'weightDecay', 'gamma', 'power', 'beta2', 'eps',
  'classes', 'trainLimit', 'extraImages', 'extraHash', 'workers', 'threads',
];
