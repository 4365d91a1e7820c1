import { formatConfidence } from '../../../shared/confidence';
import { shortLabel } from '../../../shared/labels';

/** A confidence, written as everywhere in the lab (src/shared/confidence.ts): "99.9987%", "1 - 3.2e-8". */
export function pct(p: number | null | undefined): string {
  return formatConfidence(p);
}

/** A signed change in percentage points. */
export function deltaPct(after: number, before: number): string {
  const d = (after - before) * 100;
  return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)} pts`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function rate(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return '–';
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1);
}

/** ImageNet labels start with their WordNet id ("n01440764 tench, Tinca tinca"): show the words. */
export { shortLabel };

/** A label as text, name first and the WordNet id after: "tench, Tinca tinca (n01440764)". */
export function nameFirst(label: string): string {
  const id = synset(label);
  return id ? `${shortLabel(label)} (${id})` : label;
}

/** The WordNet id of an ImageNet label ("n01440764"), shown second and small; null for other labels. */
export function synset(label: string): string | null {
  return /^(n\d{8})\s/.exec(label)?.[1] ?? null;
}

/** A lineage's length in words: the chain holds the champion itself, so its ancestors are one fewer (the CLI counts "N individuals"). */
export function ancestry(chainLength: number): string {
  const n = chainLength - 1;
  return n <= 0 ? 'a random genome of generation 0, no ancestors' : `${n} ${n === 1 ? 'ancestor' : 'ancestors'} back to generation 0`;
}

/** An experiment's state in words: complete, cut short by a cancel (its result holds what was done), or without a result yet. */
export function experimentStatus(x: { finished: boolean; cancelled: boolean }): string {
  return x.finished ? 'finished' : x.cancelled ? 'cancelled (results so far)' : 'not finished';
}

/** A stored UTC timestamp in the reader's local time, to the second ("2026-12-01 15:04:05"). */
export function when(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/**
 * The display size for an image `side` pixels wide near `target`: a whole multiple when enlarging
 * (28 -> 252, not 256: every source pixel becomes the same number of screen pixels).
 */
export function wholeScale(side: number, target: number): number {
  if (side <= 0) return target;
  if (side >= target) return target;
  return side * Math.max(1, Math.floor(target / side));
}
