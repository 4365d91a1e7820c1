/** Runs fn until at least `minMs` have passed (after one warm-up call); returns calls per second. */
export async function rate(fn: () => Promise<unknown>, minMs = 1500, minRuns = 3): Promise<number> {
  await fn();
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
