import { basename, join } from 'node:path';
import { FoolError, isFoolError } from '../../../shared/errors';
import { catalogueEntry, type CatalogueEntry } from './catalogue';
import type { ClassifierOptions } from './classifier';
import { download, UnreachableError } from './download';
import { IMAGENET_LABELS } from './manifest-options';
import type { AddModelResult, ModelRegistry } from './registry';

export interface GetModelOptions {
  /** Name in this lab (default: the catalogue name). */
  name?: string;
  check?: boolean;
  classifier?: ClassifierOptions;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface GetModelResult extends AddModelResult {
  entry: CatalogueEntry;
  /** Bytes already on disk from an interrupted earlier download. */
  resumedFrom: number;
  attempts: number;
}

/** The file name of a catalogue entry's download (the last part of its URL). */
export function downloadFileName(e: CatalogueEntry): string {
  return basename(new URL(e.url).pathname) || `${e.name}.onnx`;
}

/** The command that registers a catalogue model downloaded by hand. */
export function addCommandFor(e: CatalogueEntry, name = e.name, file = downloadFileName(e)): string {
  return `fool models add ${file} --name ${name} --preset ${e.preset}`;
}

/**
 * `fool models get NAME`: download a catalogue model into the lab (resumable, hash-checked), then
 * register it like `models add`, self-check included. The download is kept in LAB.models/.downloads
 * until it is registered, so a failed registration does not mean downloading again.
 */
export async function getModel(registry: ModelRegistry, name: string, opts: GetModelOptions = {}): Promise<GetModelResult> {
  const entry = catalogueEntry(name);
  const as = opts.name ?? entry.name;
  if (registry.list().some((m) => m.name === as)) {
    throw new FoolError('BAD_INPUT', `a model named "${as}" already exists in this lab`, `It is there already; or get it under another name with --name, or "fool models remove ${as}" first`);
  }
  // Named by entry and hash: two catalogues' files of one name never share a partial download.
  const dest = join(registry.dir, '.downloads', `${entry.name}-${entry.sha256.slice(0, 12)}-${downloadFileName(entry)}`);
  let got: { resumedFrom: number; attempts: number };
  try {
    got = await download({ url: entry.url, dest, bytes: entry.bytes, sha256: entry.sha256, onProgress: opts.onProgress, signal: opts.signal });
  } catch (e) {
    if (e instanceof UnreachableError) {
      throw new FoolError(
        'OFFLINE',
        `cannot download ${entry.name}: ${e.message}; this machine looks offline`,
        `On a machine with internet, download ${entry.url} (${(entry.bytes / 1e6).toFixed(1)} MB, SHA-256 ${entry.sha256}), copy it here and register it with: ${addCommandFor(entry, as)}`,
      );
    }
    throw e;
  }
  const add = registry.add(dest, {
    name: as,
    preset: entry.preset,
    labels: entry.labels === 'imagenet' ? IMAGENET_LABELS() : undefined,
    description: entry.title,
    check: opts.check,
    classifier: opts.classifier,
    move: true,
    origin: entry.url,
    adoptBest: !entry.verified,
    commandFor: (flags) => `fool models add ${dest} --name ${as} ${flags}`,
  });
  let result: AddModelResult;
  try {
    result = await add;
  } catch (e) {
    if (!isFoolError(e)) throw e;
    throw new FoolError(e.code, `${e.message} (the download is kept in ${dest}: the same command registers it without downloading again)`);
  }
  return { ...result, entry, ...got };
}
