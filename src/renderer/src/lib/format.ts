import { formatConfidence } from '../../../shared/confidence';

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
export function shortLabel(label: string): string {
  return label.replace(/^n\d{8}\s+/, '');
}
