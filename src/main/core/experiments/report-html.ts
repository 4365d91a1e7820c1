/** HTML pieces the kinds' report sections are made of. */

export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function htmlTable(rows: string[][]): string {
  const [head, ...body] = rows;
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** A plain-text table (the CLI's): columns padded to their widest cell. */
export function textTable(rows: (string | number)[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, String(c).length)));
  return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/** Parsers for the kinds' CLI options (their messages are what the CLI shows on bad input). */
export const nameList = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);

export function idList(name: string): (v: string) => number[] {
  return (v) => {
    const ids = v.split(',').map((s) => Number(s.trim()));
    if (ids.length === 0 || ids.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${name} takes run ids separated by commas, got "${v}"`);
    return ids;
  };
}

/** An integer option in [min, max] written in digits, as the command line's own parsers take them. */
export function intOption(name: string, min = 1, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\s*\+?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${v}"`);
    return n;
  };
}

export const reportHint = (id: number): string => `Experiment ${id} stored. Report: fool experiments report ${id} --out DIR`;
