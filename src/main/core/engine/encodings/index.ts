import { FoolError } from '../../../../shared/errors';
import type { Encoding } from '../../../../shared/engine';
import type { GenomeEncoding } from '../encoding';
import { cppnEncoding } from './cppn';
import { directEncoding } from './direct';

/**
 * The encoding table: every genome encoding the lab knows, by name. The scheduler, the renderers,
 * the run loop (store encode/decode), the API and the exports look an encoding up here; none of
 * them names one. A new encoding: one file beside these implementing GenomeEncoding, one line here.
 */
export const ENCODING_TABLE: { readonly [N in Encoding]: GenomeEncoding } = {
  direct: directEncoding,
  cppn: cppnEncoding,
};

/** The encoding called `name`, or a clear error (a run from a newer lab, a typo). */
export function encodingOf(name: string): GenomeEncoding {
  const e = Object.prototype.hasOwnProperty.call(ENCODING_TABLE, name) ? ENCODING_TABLE[name as Encoding] : undefined;
  if (!e) throw new FoolError('BAD_INPUT', `unknown genome encoding "${name}"`, `Known encodings: ${Object.keys(ENCODING_TABLE).join(', ')}`);
  return e;
}
