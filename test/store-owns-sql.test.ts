import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The store owns the schema: every SQL statement lives under src/main/core/store/, behind named
 * methods. This scans the sources for the ways SQL gets written, so a query added anywhere else
 * fails here with the file and line to move.
 */

const root = join(__dirname, '..');
const STORE = ['src', 'main', 'core', 'store'].join(sep) + sep;

/** What writing SQL looks like: a statement, a pragma or a transaction on a handle, the driver, or SQL text (upper case, as this project writes it). */
const PATTERNS: [string, RegExp][] = [
  ['a prepared statement', /\.prepare\s*\(/],
  ['an SQL string run with exec', /\.exec\s*\(\s*[`'"]/],
  ['a pragma', /\.pragma\s*\(/],
  ['a transaction', /\.transaction\s*\(/],
  ['the SQLite driver', /from\s+['"]better-sqlite3['"]|require\(\s*['"]better-sqlite3['"]\s*\)/],
  ['SQL text', /[`'"]\s*(SELECT\s+[\w*]|INSERT\s+INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|CREATE\s+(TABLE|INDEX)\b|ALTER\s+TABLE\b|DROP\s+TABLE\b|PRAGMA\s+\w)/],
];

export function sqlFindings(path: string, text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const [what, re] of PATTERNS) if (re.test(line)) out.push(`${path}:${i + 1}: ${what}: ${line.trim()}`);
  });
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(ts|svelte|js|mjs|cjs)$/.test(e.name) ? [p] : [];
  });
}

describe('the store owns the schema', () => {
  it('no SQL outside src/main/core/store/', () => {
    const files = sources(join(root, 'src')).filter((f) => !relative(root, f).startsWith(STORE));
    expect(files.length).toBeGreaterThan(50); // the scan sees the sources
    const found = files.flatMap((f) => sqlFindings(relative(root, f), readFileSync(f, 'utf8')));
    expect(found, 'move these into a named method of a repository in src/main/core/store/').toEqual([]);
  });

  it('the scan catches each way of writing SQL, and not a regular expression', () => {
    const bad = [
      "const rows = lab.db.prepare('SELECT id FROM individuals').all();",
      'db.exec(`DELETE FROM runs`);',
      "db.pragma('user_version = 6');",
      'lab.db.transaction(() => undefined)();',
      "import Database from 'better-sqlite3';",
      "const q = 'INSERT INTO models (name) VALUES (?)';",
    ];
    for (const line of bad) expect(sqlFindings('x.ts', line).length, line).toBeGreaterThan(0);
    expect(sqlFindings('x.ts', 'const m = /^(\\d+)$/.exec(part);')).toEqual([]);
    expect(sqlFindings('x.ts', "const help = 'Select the champions you want to compare';")).toEqual([]);
  });
});
