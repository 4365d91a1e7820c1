/** Runs fn until at least `minMs` have passed (after one warm-up call); returns calls per second. */
export async function rate(fn: () => Promise<unknown>, minMs = 1500, minRuns = 3, warmUp = true): Promise<number> {
  if (warmUp) await fn();
  let runs = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < minMs || runs < minRuns) {
    await fn();
    runs++;
    elapsed = performance.now() - t0;
  }
  return runs / (elapsed / 1000);
}

export function printTable(title: string, rows: (string | number)[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, String(c).length)));
  const line = (r: (string | number)[]) => '| ' + r.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
  const out = [`\n### ${title}\n`, line(rows[0]), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.slice(1).map(line)].join('\n');
  console.log(out);
  return out;
}

export const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/**
 * Calls per second of each fn, measured in interleaved rounds (A B A B ...: load that comes and
 * goes on a shared machine hits every variant alike) after one warm-up call each; each round
 * runs a fn for at least `minMs` (and 2 calls); returns the median round of each.
 */
export async function interleavedRates(fns: (() => Promise<unknown>)[], rounds: number, minMs: number): Promise<number[]> {
  for (const fn of fns) await fn();
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < fns.length; i++) samples[i].push(await rate(fns[i], minMs, 2, false));
  }
  return samples.map((s) => {
    const sorted = [...s].sort((a, b) => a - b);
    const m = sorted.length >> 1;
    return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  });
}
