import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDb, SCHEMA_VERSION } from '../src/main/core/store/db';
import { fool, tempDir } from './helpers';

describe('the lab database', () => {
  it('creates the schema at the current version, in WAL mode', () => {
    const path = join(tempDir(), 'lab.db');
    const db = openDb(path);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    // Opening again is a no-op.
    openDb(path).close();
  });

  it('refuses a file that is not SQLite, and leaves it untouched', async () => {
    const path = join(tempDir(), 'notes.db');
    writeFileSync(path, 'my precious notes\n'.repeat(100));
    const before = readFileSync(path);
    const r = await fool(['models', 'list', '--db', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a Fooling Lab database \(it is not SQLite\)/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a database from a newer schema without writing to it', async () => {
    const path = join(tempDir(), 'future.db');
    const raw = new Database(path);
    raw.exec('CREATE TABLE future (x INTEGER); INSERT INTO future VALUES (42);');
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    const before = readFileSync(path);
    const r = await fool(['models', 'list', '--db', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/newer Fooling Lab \(schema \d+; this version knows up to \d+\)/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});
