import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FoolError } from '../../../shared/errors';
import { Lab } from '../lab';
import { importLab } from './import';

/**
 * Writes a lab holding one run (`fool runs export-lab RUN --out FILE.db`), to share or to merge
 * elsewhere with `fool runs import`: a new lab file into which the run is imported from this one
 * (with its models beside it, its saved ablations and the experiments that concern it alone).
 */
export async function exportLab(lab: Lab, runId: number, out: string): Promise<{ file: string; runId: number; models: string[] }> {
  lab.runs.get(runId);
  const file = resolve(out);
  if (existsSync(file) && statSync(file).size > 0) {
    throw new FoolError('BAD_INPUT', `${file} already exists; it was left untouched`, 'Choose another --out, or move that file away');
  }
  if (file === resolve(lab.dbPath)) throw new FoolError('BAD_INPUT', `${file} is this lab itself`, 'Choose another --out');
  const dest = new Lab(file);
  try {
    const r = await importLab(dest, lab.dbPath, { runs: [runId] });
    return { file, runId: r.imported[0]?.runId ?? r.skipped[0].runId, models: r.models.filter((m) => m.copied).map((m) => m.as) };
  } finally {
    dest.close();
  }
}
