import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { foolJson } from './helpers';

/** Shared set-up of the experiment tests: short runs on the shipped LeNet, a LeNet with other labels. */

export interface EvolveResult {
  runId: number;
  champions: { class: number; confidence: number; individualId: number }[];
}

export function evolve(db: string, ...args: string[]): Promise<EvolveResult> {
  return foolJson<EvolveResult>(['evolve', '--db', db, '--generations', '4', '--batch', '30', ...args]);
}

export async function evolveRun(db: string, ...args: string[]): Promise<number> {
  return (await evolve(db, ...args)).runId;
}

/** The shipped LeNet registered with letters for labels: the same network, another label set. */
export async function addLetterModel(db: string, dir: string): Promise<string> {
  const labels = join(dir, 'letters.txt');
  writeFileSync(labels, 'abcdefghij'.split('').join('\n') + '\n');
  const onnx = join(__dirname, '../resources/models/lenet-mnist.onnx');
  await foolJson(['models', 'add', onnx, '--name', 'lenet-letters', '--preset', 'mnist', '--labels', labels, '--db', db]);
  return 'lenet-letters';
}
