import uPlot from 'uplot';
import { formatConfidence, fromNines, nines, ninesLabel } from '../../../shared/confidence';

/**
 * Chart options for the lab's plots, drawn by uPlot (a maintained canvas chart library: fast with
 * thousands of points, zoom by dragging, values on hover, 45 kB). Confidence is drawn on a
 * log-odds axis, -log10(1 - p) ("nines"), so 99%, 99.99% and 99.9999% lie evenly apart: on a linear
 * axis the whole climb the paper reports is a flat line at the top.
 */

export const COLORS = ['#111827', '#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#65a30d', '#a16207'];

/** Twenty distinguishable colours (the WordNet groups of a 1000-class phylogeny). */
export const COLORS20 = ['#1f77b4', '#aec7e8', '#ff7f0e', '#ffbb78', '#2ca02c', '#98df8a', '#d62728', '#ff9896', '#9467bd', '#c5b0d5', '#8c564b', '#c49c94', '#e377c2', '#f7b6d2', '#7f7f7f', '#bcbd22', '#dbdb8d', '#17becf', '#9edae5', '#393b79'];

/** Whole numbers only (cells, generations): uPlot picks its tick step from these. */
const WHOLE_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];

/** The confidence axis: ticks at whole nines, labelled 90%, 99%, 99.9%, ... */
export function confidenceAxis(): uPlot.Axis {
  return {
    scale: 'conf',
    label: 'confidence (log-odds)',
    size: 84,
    splits: (_u, _i, min, max) => {
      const out: number[] = [];
      for (let n = Math.ceil(min); n <= Math.floor(max); n++) out.push(n);
      return out;
    },
    values: (_u, splits) => splits.map((n) => ninesLabel(n)),
    grid: { stroke: '#e5e7eb', width: 1 },
  };
}

/** A confidence scale from 0 to `top` nines: at least 4 (99.99%, the paper's bar), headroom above the best value. */
export function confidenceTop(maxNines: number): number {
  return Math.min(8, Math.max(4, Math.ceil(maxNines + 0.25)));
}

export function confidenceScale(top: number): uPlot.Scale {
  return { range: () => [0, top] };
}

/** A whole-number x axis (steps, bins): no "2.5" ticks. */
export function wholeXAxis(label: string): uPlot.Axis {
  return { label, incrs: WHOLE_INCRS, values: (_u, splits) => splits.map((v) => String(Math.round(v))), grid: { stroke: '#f3f4f6', width: 1 } };
}

export function wholeAxis(scale: string, label: string, side: 1 | 3 = 1, stroke = '#16a34a'): uPlot.Axis {
  return {
    scale,
    side,
    label,
    stroke,
    incrs: WHOLE_INCRS,
    values: (_u, splits) => splits.map((v) => String(Math.round(v))),
    grid: { show: false },
    size: 56,
  };
}

/** A confidence series: values are nines; the legend and hover show the confidence itself. */
export function confidenceSeries(label: string, stroke: string, width = 1.8, dash?: number[]): uPlot.Series {
  return { label, stroke, width, dash, scale: 'conf', value: (_u, v) => (v === null || v === undefined ? '–' : formatConfidence(fromNines(v))), points: { show: false } };
}

export function cellsSeries(label: string, stroke = '#16a34a', dash: number[] = [6, 4]): uPlot.Series {
  return { label, stroke, width: 1.5, dash, scale: 'cells', value: (_u, v) => (v === null || v === undefined ? '–' : String(Math.round(v))), points: { show: false } };
}

/**
 * The generations axis: from 0 to the planned generations (or the data's last, if further), so a
 * run's curve fills the chart as it goes. A zoom (a narrower range) is kept as asked. The range
 * reads the data at draw time: options need not be rebuilt for every new generation.
 */
export function generationsX(planned: number | null): { scale: uPlot.Scale; axis: uPlot.Axis; series: uPlot.Series } {
  return {
    scale: {
      time: false,
      range: (u, min, max) => {
        const xs = u.data[0];
        const hi = Math.max(1, planned ?? 0, xs.length ? (xs[xs.length - 1] ?? 0) : 0);
        return min === null || max === null || (min <= (xs[0] ?? 0) && max >= (xs[xs.length - 1] ?? 0)) ? [0, hi] : [min, max];
      },
    },
    axis: { label: 'generation', incrs: WHOLE_INCRS, values: (_u, splits) => splits.map((v) => String(Math.round(v))), grid: { stroke: '#f3f4f6', width: 1 } },
    series: { label: 'generation', value: (_u, v) => (v === null || v === undefined ? '–' : String(Math.round(v))) },
  };
}

/** Confidences to nines for plotting (null stays a gap). */
export const toNines = (ps: (number | null)[]): (number | null)[] => ps.map((p) => (p === null ? null : nines(p)));

/** Bins of a histogram over confidences, in half-nine steps from 0 to 8 nines. */
export function confidenceHistogram(confidences: number[], step = 0.5): { edges: number[]; counts: number[] } {
  const bins = Math.round(8 / step);
  const counts = new Array<number>(bins).fill(0);
  for (const p of confidences) {
    const b = Math.min(bins - 1, Math.floor(nines(p) / step));
    counts[b]++;
  }
  return { edges: Array.from({ length: bins }, (_, i) => i * step), counts };
}
