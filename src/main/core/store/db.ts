import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
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
function checkIsSqlite(path: string, fix: string): void {
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
      fix,
    );
  }
}

/**
 * Stamped into every lab's header (PRAGMA application_id, "FOOL"), so a lab is recognised as ours
 * even when it is empty; labs made before it was set are recognised by their tables.
 */
export const APPLICATION_ID = 0x464f4f4c;

/** Our tables: a file that has user tables but none of these (or not all) is another program's. */
const OUR_TABLES = ['models', 'runs'];

/**
 * Refuses, before anything is written, a SQLite file that another program made: its header names
 * another application, or it has tables and none of them are a lab's. The file is inspected through
 * a read-only connection, so its bytes (and its journal mode) stay as they were.
 */
function checkIsOurs(path: string, fix: string): void {
  if (!existsSync(path) || statSync(path).size === 0) return;
  let probe: Db;
  try {
    probe = openReadOnly(path, !writable(path));
  } catch {
    return; // openDb reports why it cannot be opened
  }
  try {
    const appId = probe.pragma('application_id', { simple: true }) as number;
    const tables = (probe.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((t) => t.name);
    // A schema newer than this build's may have other tables: it is refused below as newer, not as foreign.
    const newer = (probe.pragma('user_version', { simple: true }) as number) > SCHEMA_VERSION;
    const ours = appId === APPLICATION_ID || (appId === 0 && (newer || tables.length === 0 || OUR_TABLES.every((t) => tables.includes(t))));
    if (!ours) {
      const what = appId !== 0 ? `its header names another application (application_id ${appId})` : `its tables (${tables.slice(0, 4).join(', ')}${tables.length > 4 ? ', ...' : ''}) are not a lab's`;
      throw new FoolError('BAD_DATABASE', `${path} is another program's SQLite database (${what}); it was left untouched`, fix);
    }
  } catch (e) {
    if (e instanceof FoolError) throw e;
    // Unreadable as SQLite: openDb below gives the message.
  } finally {
    probe.close();
  }
}

// better-sqlite3 reads this once, at its first database: file: URIs let a read-only medium be opened
// `immutable` (a WAL lab needs its -shm file otherwise, which cannot be created there). Our paths are
// always absolute, so none is mistaken for a URI.
process.env.SQLITE_USE_URI ??= '1';

/**
 * A read-only connection. On a medium nobody can write (`immutable`), SQLite is told so, and reads a
 * WAL lab without creating its -shm file.
 */
function openReadOnly(path: string, immutable: boolean): Db {
  const name = immutable ? `${pathToFileURL(path).href}?immutable=1` : path;
  return new Database(name, { readonly: true, fileMustExist: true, nativeBinding: nativeBinding() });
}

/** Whether the file (or, for a new lab, its folder) can be written: a read-only lab is opened read-only. */
function writable(path: string): boolean {
  try {
    accessSync(existsSync(path) ? path : dirname(path), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens (creating if needed) the lab database and brings its schema up to date. A database made
 * by a newer Fooling Lab, or by another program, is refused without being written to. A lab on a
 * read-only medium is opened read-only: reading works, and the first write says what to do.
 */
export function openDb(path: string, opts: { readonly?: boolean; notALab?: string } = {}): Db {
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new FoolError('BAD_DATABASE', `${path} is a folder, not a lab database`, opts.notALab ?? `Pass a file with --db, e.g. ${join(path, 'lab.db')}`);
  }
  // What to do about a file that is not a lab: for this lab's own file, name another; a caller
  // reading another lab (an import) says what it needs instead.
  checkIsSqlite(path, opts.notALab ?? 'Pass another file with --db (or FOOL_DB), or move this one away');
  checkIsOurs(path, opts.notALab ?? 'Pass a new or existing lab with --db (or FOOL_DB)');
  if (!opts.readonly) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (e) {
      throw new FoolError('IO', `cannot create the folder for the lab ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'Pass a --db in a folder you can write to');
    }
  }
  const readonly = opts.readonly === true || (existsSync(path) && !writable(path));
  let db: Db;
  try {
    db = readonly ? openReadOnly(path, opts.readonly !== true) : new Database(path, { nativeBinding: nativeBinding() });
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
    if (readonly && version < SCHEMA_VERSION) {
      throw new FoolError('BAD_DATABASE', `${path} is read-only and needs an upgrade (schema ${version} to ${SCHEMA_VERSION}) before this version can read it`, 'Make it writable, or copy it to a writable folder and pass the copy with --db');
    }
    if (!readonly) {
      // Writers wait for each other (a generation commits in milliseconds) instead of failing.
      db.pragma('busy_timeout = 30000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, version);
      if ((db.pragma('application_id', { simple: true }) as number) !== APPLICATION_ID) db.pragma(`application_id = ${APPLICATION_ID}`);
    }
    return db;
  } catch (e) {
    db.close();
    if (e instanceof FoolError) throw e;
    throw new FoolError('BAD_DATABASE', `${path} is not a usable database: ${(e as Error).message}`, 'Pass another file with --db');
  }
}

/** Each step under the write lock, re-reading the version: two processes may open a new lab at once. */
function migrate(db: Db, from: number): void {
  for (let v = from; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      if ((db.pragma('user_version', { simple: true }) as number) > v) return;
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
