/**
 * Small SVG charts for experiment reports (line chart, histogram, heat map), drawn by hand: three
 * chart shapes do not justify a plotting library, and sharp turns the SVG into PNG.
 */

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const STYLE = `<style>text{font-family:'DejaVu Sans',sans-serif;font-size:12px;fill:#222}.t{font-size:14px;font-weight:bold}</style>`;

interface Frame {
  W: number;
  H: number;
  left: number;
  top: number;
  w: number;
  h: number;
}

const frame = (W = 640, H = 400, left = 60): Frame => ({ W, H, left, top: 36, w: W - left - 150, h: H - 36 - 50 });

function axes(f: Frame, title: string, xLabel: string, yLabel: string, xTicks: [number, string][], yTicks: [number, string][]): string {
  const parts = [`<text class="t" x="${f.left}" y="20">${esc(title)}</text>`];
  parts.push(`<rect x="${f.left}" y="${f.top}" width="${f.w}" height="${f.h}" fill="none" stroke="#888"/>`);
  for (const [x, l] of xTicks) parts.push(`<line x1="${x}" y1="${f.top + f.h}" x2="${x}" y2="${f.top + f.h + 4}" stroke="#888"/><text x="${x}" y="${f.top + f.h + 16}" text-anchor="middle">${esc(l)}</text>`);
  for (const [y, l] of yTicks) parts.push(`<line x1="${f.left - 4}" y1="${y}" x2="${f.left + f.w}" y2="${y}" stroke="#eee"/><text x="${f.left - 6}" y="${y + 4}" text-anchor="end">${esc(l)}</text>`);
  parts.push(`<text x="${f.left + f.w / 2}" y="${f.H - 10}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${f.top + f.h / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  return parts.join('');
}

function legend(f: Frame, names: string[]): string {
  return names.map((n, i) => `<rect x="${f.left + f.w + 12}" y="${f.top + i * 18}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${f.left + f.w + 30}" y="${f.top + i * 18 + 10}">${esc(n.slice(0, 18))}</text>`).join('');
}

const svg = (f: Frame, body: string) => `<svg xmlns="http://www.w3.org/2000/svg" width="${f.W}" height="${f.H}"><rect width="100%" height="100%" fill="#fff"/>${STYLE}${body}</svg>`;

/**
 * y in [0, 1] (confidences) against x = 0..n-1 (generations). `y` gives another scale: values in
 * [0, max] with their own ticks (the run report's log-odds axis, cell counts).
 */
export function lineChart(series: { name: string; ys: number[] }[], title: string, xLabel: string, yLabel: string, y?: { max: number; ticks: [number, string][] }): string {
  // Room for the longest tick label ("99.9999%" needs more than "100%").
  const f = frame(640, 400, Math.max(60, 26 + 7 * Math.max(0, ...(y?.ticks ?? []).map(([, l]) => l.length))));
  const n = Math.max(2, ...series.map((s) => s.ys.length));
  const top = y?.max ?? 1;
  const X = (i: number) => f.left + (i / (n - 1)) * f.w;
  const Y = (v: number) => f.top + (1 - Math.max(0, Math.min(1, v / top))) * f.h;
  const step = Math.max(1, Math.ceil((n - 1) / 8));
  const xt: [number, string][] = [];
  for (let i = 0; i < n; i += step) xt.push([X(i), String(i)]);
  const yt: [number, string][] = y ? y.ticks.map(([v, l]) => [Y(v), l]) : [0, 0.25, 0.5, 0.75, 1].map((v) => [Y(v), `${v * 100}%`]);
  const lines = series.map((s, k) => {
    const pts = s.ys.map((v, i) => (Number.isFinite(v) ? `${X(i).toFixed(1)},${Y(v).toFixed(1)}` : '')).filter(Boolean).join(' ');
    return `<polyline points="${pts}" fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2"/>`;
  });
  return svg(f, axes(f, title, xLabel, yLabel, xt, yt) + lines.join('') + legend(f, series.map((s) => s.name)));
}

/** Counts of values in [lo, hi) bins, groups side by side. */
export function histogram(groups: { name: string; values: number[] }[], title: string, xLabel: string, lo = 0, hi = 1, bins = 10): string {
  const f = frame();
  const counts = groups.map((g) => {
    const c = new Array<number>(bins).fill(0);
    for (const v of g.values) if (Number.isFinite(v)) c[Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)))]++;
    return c;
  });
  const top = Math.max(1, ...counts.flat());
  const bw = f.w / bins;
  const gw = (bw * 0.8) / Math.max(1, groups.length);
  const bars: string[] = [];
  counts.forEach((c, k) =>
    c.forEach((v, b) => {
      const h = (v / top) * f.h;
      bars.push(`<rect x="${(f.left + b * bw + bw * 0.1 + k * gw).toFixed(1)}" y="${(f.top + f.h - h).toFixed(1)}" width="${gw.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[k % COLORS.length]}"/>`);
    }),
  );
  const fmt = (v: number) => (Math.abs(hi - lo) <= 2 ? `${Math.round(v * 100)}%` : v.toFixed(0));
  const xt: [number, string][] = [];
  for (let b = 0; b <= bins; b += Math.max(1, Math.floor(bins / 5))) xt.push([f.left + b * bw, fmt(lo + ((hi - lo) * b) / bins)]);
  const yt: [number, string][] = [0, 1].map((q) => [f.top + (1 - q) * f.h, String(q * top)]);
  return svg(f, axes(f, title, xLabel, 'images', xt, yt) + bars.join('') + legend(f, groups.map((g) => g.name)));
}

/** rows x cols of values in [0, 1], white to dark blue, each cell labelled. */
export function heatmap(rows: string[], cols: string[], values: number[][], title: string, fmt: (v: number) => string): string {
  const cell = 90;
  const left = 150;
  const top = 70;
  const f: Frame = { W: Math.max(420, left + cols.length * cell + 20), H: top + rows.length * cell + 40, left, top, w: cols.length * cell, h: rows.length * cell };
  const parts = [`<text class="t" x="10" y="20">${esc(title)}</text>`, `<text x="${left}" y="44">target model</text>`];
  cols.forEach((c, j) => parts.push(`<text x="${left + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${esc(c.slice(0, 14))}</text>`));
  rows.forEach((r, i) => {
    parts.push(`<text x="${left - 8}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(r.slice(0, 20))}</text>`);
    cols.forEach((_, j) => {
      const v = values[i][j];
      const t = Number.isFinite(v) ? Math.max(0, Math.min(1, v)) : 0;
      const rgb = [255 - 225 * t, 255 - 180 * t, 255 - 100 * t].map(Math.round);
      parts.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${rgb.join(',')})" stroke="#fff"/>`);
      parts.push(`<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" style="fill:${t > 0.55 ? '#fff' : '#222'}">${esc(fmt(v))}</text>`);
    });
  });
  parts.push(`<text x="${left}" y="${f.H - 12}">rows: model the images were evolved on</text>`);
  return svg(f, parts.join(''));
}
