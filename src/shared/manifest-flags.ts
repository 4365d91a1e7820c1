import { FoolError } from './errors';
import type { InputSpec } from './manifest';

/**
 * The manifest as people type and read it (the CLI's flags, the app's fields): parsing "224x224",
 * "0.485,0.456,0.406" and "1/255", and printing a normalisation back. Shared so that the app and
 * the command line accept and show the same forms.
 */

/** Parses "HxW" or "N" (square). */
export function parseSize(v: string): { height: number; width: number } {
  const m = /^\s*(\d+)\s*(?:[xX*,]\s*(\d+))?\s*$/.exec(v);
  const h = m ? Number(m[1]) : NaN;
  const w = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || !(h > 0) || !(w > 0)) throw new FoolError('BAD_INPUT', `--size must be HxW (e.g. 224x224) or one number, got "${v}"`, 'Use e.g. --size 28x28');
  return { height: h, width: w };
}

/** A number, or a fraction like 1/255. */
export function parseNumber(flag: string, v: string): number {
  const m = /^\s*([-+]?[\d.eE+-]+)\s*(?:\/\s*([\d.eE+-]+))?\s*$/.exec(v);
  const n = m ? (m[2] !== undefined ? Number(m[1]) / Number(m[2]) : Number(m[1])) : NaN;
  if (!Number.isFinite(n)) throw new FoolError('BAD_INPUT', `${flag} must be a number (or a fraction like 1/255), got "${v}"`, `e.g. ${flag} 1/255`);
  return n;
}

/** Parses "0.485,0.456,0.406" (or one number). */
export function parseNumbers(flag: string, v: string): number[] {
  const nums = v.split(',').map((s) => parseNumber(flag, s.trim()));
  if (nums.length < 1 || nums.length > 3) throw new FoolError('BAD_INPUT', `${flag} takes 1 or 3 numbers separated by commas, got "${v}"`, `e.g. ${flag} 0.485,0.456,0.406`);
  return nums;
}

/** --output-kind accepts probs / logits as well as the manifest's words. */
export function parseOutputKind(v: string): 'probabilities' | 'logits' {
  if (v === 'probs' || v === 'probabilities') return 'probabilities';
  if (v === 'logits') return 'logits';
  throw new FoolError('BAD_INPUT', `--output-kind must be probs or logits, got "${v}"`, 'probs: the output is already a softmax; logits: Fooling Lab applies the softmax');
}

/** A scale as people write it: 1/255 rather than 0.00392156862745098. */
export function formatScale(scale: number): string {
  const inv = 1 / scale;
  if (scale < 1 && Math.abs(inv * 2 - Math.round(inv * 2)) < 1e-9) return `1/${Math.round(inv * 2) / 2}`;
  return String(scale);
}

/** x = (p * 1/255 - 0.1307) / 0.3081 */
export function describeNormalisation(i: Pick<InputSpec, 'scale' | 'mean' | 'std'>): string {
  const one = (v: number[]) => (v.length === 1 ? String(v[0]) : `[${v.join(', ')}]`);
  return `x = (p * ${formatScale(i.scale)} - ${one(i.mean)}) / ${one(i.std)}`;
}
