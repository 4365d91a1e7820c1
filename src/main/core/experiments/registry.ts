import { FoolError } from '../../../shared/errors';
import type { ExperimentKind } from './kind';
import { ablate } from './kinds/ablate';
import { reproduce } from './kinds/reproduce';
import { retrain } from './kinds/retrain';
import { transfer } from './kinds/transfer';

/**
 * The experiment registry: every kind the API, the reports and the CLI know. A new experiment is one
 * file in kinds/ (see kind.ts for what it declares) plus one line here. Tests (and plugins) may add a
 * kind at run time with registerExperiment.
 */
const KINDS = new Map<string, ExperimentKind<never, never>>();

export function registerExperiment<P, R>(k: ExperimentKind<P, R>): void {
  if (KINDS.has(k.kind)) throw new FoolError('BAD_INPUT', `experiment kind "${k.kind}" is registered twice`);
  KINDS.set(k.kind, k as unknown as ExperimentKind<never, never>);
}

registerExperiment(transfer);
registerExperiment(reproduce);
registerExperiment(retrain);
registerExperiment(ablate);

export function experimentKinds(): ExperimentKind<unknown, unknown>[] {
  return [...KINDS.values()] as unknown as ExperimentKind<unknown, unknown>[];
}

/** The kind by its API name. */
export function experimentKind(kind: string): ExperimentKind<unknown, unknown> {
  const k = KINDS.get(kind);
  if (!k) throw new FoolError('BAD_INPUT', `unknown experiment kind "${kind}"`, `Kinds: ${[...KINDS.keys()].join(', ')}`);
  return k as unknown as ExperimentKind<unknown, unknown>;
}

/** The kind of a stored experiment (the table's name: 'ablation' is the 'ablate' kind). */
export function storedKind(stored: string): ExperimentKind<unknown, unknown> {
  const k = [...KINDS.values()].find((x) => (x.stored ?? x.kind) === stored || x.alsoStored?.includes(stored));
  if (!k) throw new FoolError('UNSUPPORTED', `experiment kind "${stored}" is not known to this version`, 'Update Fooling Lab');
  return k as unknown as ExperimentKind<unknown, unknown>;
}
