import { existsSync, mkdirSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../paths';
import Database from 'better-sqlite3';
import { FoolError } from '../../../shared/errors';
import { MIGRATIONS } from './migrations';

export type Db = Database.Database;

export const SCHEMA_VERSION = MIGRATIONS.length;

const SQLITE_MAGIC = 'SQLite format 3\u0000';

/**
 * Inside Electron, better-sqlite3 needs a build for Electron's ABI. One install keeps both: the
 * Node build where npm put it, and an Electron build at FOOL_SQLITE_BINDING or
 * node_modules/better-sqlite3/build-electron/Release/better_sqlite3.node (README "The desktop app").
 */
function nativeBinding(): string | undefined {
  if (!process.versions.electron) return undefined;
  const candidates = [process.env.FOOL_SQLITE_BINDING, join(packageRoot(), 'node_modules/better-sqlite3/build-electron/Release/better_sqlite3.node')];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

/** Refuses, before SQLite touches it, a file that is not a SQLite database. */
function checkIsSqlite(path: string): void {
  if (!existsSync(path) || statSync(path).size === 0) return;
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(16);
  try {
    readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (head.toString('latin1') !== SQLITE_MAGIC) {
    throw new FoolError(
      'BAD_DATABASE',
      `${path} is not a Fooling Lab database (it is not SQLite); it was left untouched`,
      'Pass another file with --db (or FOOL_DB), or move this one away',
    );
  }
}

/**
 * Opens (creating if needed) the lab database and brings its schema up to date. A database made
 * by a newer Fooling Lab is refused without being written to.
 */
export function openDb(path: string, opts: { readonly?: boolean } = {}): Db {
  checkIsSqlite(path);
  if (!opts.readonly) mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false, nativeBinding: nativeBinding() });
  } catch (e) {
    throw new FoolError('BAD_DATABASE', `cannot open the database ${path}: ${(e as Error).message}`, 'Check the path and its permissions');
  }
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new FoolError(
        'BAD_DATABASE',
        `${path} was written by a newer Fooling Lab (schema ${version}; this version knows up to ${SCHEMA_VERSION}); it was left untouched`,
        'Update Fooling Lab, or pass another --db',
      );
    }
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, version);
    }
    return db;
  } catch (e) {
    db.close();
    if (e instanceof FoolError) throw e;
    throw new FoolError('BAD_DATABASE', `${path} is not a usable database: ${(e as Error).message}`, 'Pass another file with --db');
  }
}

function migrate(db: Db, from: number): void {
  for (let v = from; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
