import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import envPaths from 'env-paths';

/**
 * The package root: the folder of our package.json. Found by walking up from this module, which
 * works both from the sources (tests) and from the bundle in out/main.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'fooling-lab') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('Fooling Lab: cannot find the package root (package.json)');
    dir = up;
  }
}

export function shippedModelsDir(): string {
  return join(packageRoot(), 'resources', 'models');
}

/** A file shipped in resources/ (labels, the self-check's photos). */
export function resourcePath(...parts: string[]): string {
  return join(packageRoot(), 'resources', ...parts);
}

/** A built JavaScript entry in out/main (worker threads need built JS). */
export function builtEntry(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = join(here, `${name}.js`);
  if (existsSync(sibling)) return sibling;
  const built = join(packageRoot(), 'out', 'main', `${name}.js`);
  if (existsSync(built)) return built;
  throw new Error(`Fooling Lab: ${built} is missing. Run "npm run build" first.`);
}

/** --db, else $FOOL_DB, else the platform's per-user data folder. */
export function resolveDbPath(flag?: string): string {
  if (flag) return resolve(flag);
  if (process.env.FOOL_DB) return resolve(process.env.FOOL_DB);
  return join(envPaths('fooling-lab', { suffix: '' }).data, 'lab.db');
}

/** User models live beside the database: a different --db is a different lab. */
export function labModelsDir(dbPath: string): string {
  return dbPath.replace(/\.[^./\\]*$/, '') + '.models';
}
