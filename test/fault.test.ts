import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { fool, foolJson, tempDir } from './helpers';
import { fingerprint, start } from './fault-helpers';

/**
 * The fault suite, part 1: many writers on one lab, and labs that are not what they should be
 * (another program's file, a newer schema, a folder, read-only, a full disk). Everything runs on the
 * shipped lenet-mnist with tiny runs, through the real `fool` command.
 */

const TINY = ['--model', 'lenet-mnist', '--batch', '20', '--workers', '1'];

interface StatsCheck {
  runs: number;
  generations: number;
}

/** Every run finished, with one statistics row per generation, each consistent with the archive. */
function checkLab(db: string, want: { runId: number; generations: number }[]): StatsCheck {
  const d = new Database(db, { readonly: true });
  try {
    let generations = 0;
    for (const w of want) {
      const run = d.prepare('SELECT status, last_generation AS last, classes, evaluations FROM runs WHERE id = ?').get(w.runId) as { status: string; last: number; classes: number; evaluations: number };
      expect(run, `run ${w.runId}`).toMatchObject({ status: 'finished', last: w.generations });
      const stats = d.prepare('SELECT * FROM generation_stats WHERE run_id = ? ORDER BY generation').all(w.runId) as Record<string, number>[];
      expect(stats.map((s) => s.generation)).toEqual(Array.from({ length: w.generations + 1 }, (_, g) => g));
      for (const s of stats) {
        expect(s.min).toBeLessThanOrEqual(s.median);
        expect(s.median).toBeLessThanOrEqual(s.max);
        expect(s.at9999).toBeLessThanOrEqual(s.at99);
        expect(s.at99).toBeLessThanOrEqual(s.occupied);
        expect(s.occupied).toBeLessThanOrEqual(run.classes);
      }
      // The champions table is the archive of the last generation.
      const champs = (d.prepare('SELECT COUNT(*) AS n FROM champions WHERE run_id = ?').get(w.runId) as { n: number }).n;
      expect(champs).toBe(stats.at(-1)!.occupied);
      // Every champion's lineage reaches generation 0.
      const orphans = d.prepare('SELECT COUNT(*) AS n FROM individuals i WHERE run_id = ? AND parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM individuals p WHERE p.run_id = i.run_id AND p.id = i.parent_id)').get(w.runId) as { n: number };
      expect(orphans.n).toBe(0);
      generations += stats.length;
    }
    return { runs: want.length, generations };
  } finally {
    d.close();
  }
}

describe('concurrent writers on one lab', () => {
  it('two processes creating the same new lab at once both succeed', async () => {
    const db = join(tempDir(), 'lab.db');
    const runs = await Promise.all([1, 2].map((seed) => fool(['evolve', ...TINY, '--encoding', 'direct', '--generations', '1', '--seed', String(seed), '--db', db])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    checkLab(db, [1, 2].map((runId) => ({ runId, generations: 1 })));
  });

  it('two direct-encoding runs on one lab both finish, every generation stored', async () => {
    const db = join(tempDir(), 'lab.db');
    expect((await fool(['evolve', ...TINY, '--encoding', 'direct', '--generations', '1', '--db', db])).code).toBe(0);
    // Many small generations: commits every few milliseconds from both (before the fix, one of the
    // two died with "database is locked" in 4 of 4 tries here).
    const small = ['--model', 'lenet-mnist', '--batch', '10', '--workers', '1', '--encoding', 'direct', '--generations', '200'];
    const runs = await Promise.all([1, 2].map((seed) => fool(['evolve', ...small, '--seed', String(seed), '--db', db, '--json'])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const ids = runs.map((r) => (JSON.parse(r.stdout) as { runId: number }).runId).sort();
    expect(ids).toEqual([2, 3]);
    checkLab(
      db,
      ids.map((runId) => ({ runId, generations: 200 })),
    );
  });

  it('four runs (direct and CPPN) with an export loop and a `runs list` loop beside them all finish', async () => {
    const dir = tempDir();
    const db = join(dir, 'lab.db');
    // A run to export while the others write.
    expect((await fool(['evolve', ...TINY, '--encoding', 'cppn', '--generations', '2', '--db', db])).code).toBe(0);
    const writers = [
      ['direct', '1'],
      ['direct', '2'],
      ['direct', '3'],
      ['cppn', '4'],
    ].map(([enc, seed]) => start(['evolve', ...TINY, '--encoding', enc, '--generations', '30', '--seed', seed, '--db', db, '--json']));
    let done = false;
    const all = Promise.all(writers.map((w) => w.exit)).finally(() => (done = true));
    const readers: { code: number; stderr: string; what: string }[] = [];
    while (!done) {
      const list = await fool(['runs', 'list', '--db', db, '--json']);
      readers.push({ ...list, what: 'runs list' });
      const exp = await fool(['export', '1', '--out', join(dir, 'export'), '--db', db, '--json']);
      readers.push({ ...exp, what: 'export' });
    }
    const results = await all;
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    for (const r of readers) expect(r.code, `${r.what}: ${r.stderr}`).toBe(0);
    expect(readers.length).toBeGreaterThanOrEqual(2);
    const ids = results.map((r) => (JSON.parse(r.stdout) as { runId: number }).runId).sort();
    expect(ids).toEqual([2, 3, 4, 5]);
    checkLab(
      db,
      ids.map((runId) => ({ runId, generations: 30 })),
    );
    expect(JSON.parse(readFileSync(join(dir, 'export', 'manifest.json'), 'utf8'))).toMatchObject({ run: { id: 1 } });
  });
});

describe('a run live in another process', () => {
  it('`fool resume` of a live run is refused and the live run goes on; a shorter --generations and a finished run are refused', async () => {
    const db = join(tempDir(), 'lab.db');
    // Long enough to outlive the checks below; stopped with Ctrl-C (SIGINT) once they are done.
    const live = start(['evolve', ...TINY, '--encoding', 'direct', '--generations', '100000', '--db', db, '--json']);
    for (let i = 0; i < 300; i++) {
      const r = await fool(['runs', 'list', '--db', db, '--json']);
      if (r.code === 0 && ((JSON.parse(r.stdout) as { runs: { generation: number }[] }).runs[0]?.generation ?? -1) >= 1) break;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    const second = await fool(['resume', '1', '--db', db]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/run 1 is live in another process \(\d+@.*\); it was left running.*Wait for it to finish/);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    live.child.kill('SIGINT');
    const first = await live.exit;
    expect(first.code, first.stderr).toBe(0);
    const stopped = JSON.parse(first.stdout) as { status: string; generations: number };
    // The live run was not disturbed: it stopped when asked, not failed.
    expect(stopped.status).toBe('stopped');
    const g = stopped.generations;

    const settings = async () => (await foolJson<{ settings: unknown }>(['runs', 'show', '1', '--db', db])).settings;
    const was = await settings();
    const shorter = await fool(['resume', '1', '--generations', String(g), '--db', db]);
    expect(shorter.code).toBe(2);
    expect(shorter.stderr).toMatch(new RegExp(`already at generation ${g}; --generations ${g} would not extend it`));
    expect(await settings()).toEqual(was);
    // Extended by two, it finishes; then there is nothing to resume.
    expect((await foolJson<{ status: string }>(['resume', '1', '--generations', String(g + 2), '--db', db])).status).toBe('finished');
    const again = await fool(['resume', '1', '--db', db]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(new RegExp(`already finished \\(generation ${g + 2} of ${g + 2}\\).*--generations N with N above ${g + 2}`));
  });
});

describe('labs that are not what they should be', () => {
  it("refuses another program's SQLite file and leaves its bytes unchanged", async () => {
    const dir = tempDir();
    const db = join(dir, 'contacts.sqlite');
    const other = new Database(db);
    other.exec("CREATE TABLE contacts (name TEXT, phone TEXT); INSERT INTO contacts VALUES ('Ada', '555-0100');");
    other.close();
    const before = fingerprint(dir);
    for (const args of [['runs', 'list'], ['models', 'list'], ['evolve', ...TINY, '--encoding', 'direct', '--generations', '1']]) {
      const r = await fool([...args, '--db', db]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/is another program's SQLite database.*left untouched.*--db/);
    }
    expect(fingerprint(dir)).toBe(before);
    // A header naming another application is refused too, even with our table names.
    const dir2 = tempDir();
    const db2 = join(dir2, 'other-app.sqlite');
    const o2 = new Database(db2);
    o2.exec('CREATE TABLE runs (x); CREATE TABLE models (y); PRAGMA application_id = 1234;');
    o2.close();
    const before2 = fingerprint(dir2);
    const r2 = await fool(['runs', 'list', '--db', db2]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/application_id 1234/);
    expect(fingerprint(dir2)).toBe(before2);
    const d = new Database(db, { readonly: true });
    expect(d.pragma('journal_mode', { simple: true })).toBe('delete');
    expect((d.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name)).toEqual(['contacts']);
    d.close();
  });

  it('refuses a lab from a newer schema without writing to it', async () => {
    const dir = tempDir();
    const db = join(dir, 'lab.db');
    expect((await fool(['evolve', ...TINY, '--encoding', 'direct', '--generations', '1', '--db', db])).code).toBe(0);
    const d = new Database(db);
    d.pragma('user_version = 99');
    d.pragma('journal_mode = DELETE');
    d.close();
    const before = fingerprint(dir);
    for (const args of [['runs', 'list'], ['resume', '1'], ['evolve', ...TINY, '--encoding', 'direct', '--generations', '1']]) {
      const r = await fool([...args, '--db', db]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/written by a newer Fooling Lab \(schema 99;.*Update Fooling Lab/);
    }
    expect(fingerprint(dir)).toBe(before);
  });

  it('refuses a folder given as the lab, and a mistyped --db for a reading command, creating nothing', async () => {
    const dir = tempDir();
    const r = await fool(['runs', 'list', '--db', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a folder, not a lab database.*--db/);
    const typo = await fool(['runs', 'list', '--db', join(dir, 'lba.db')]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/there is no lab at .*lba\.db.*typo/);
    expect(readdirSync(dir)).toEqual([]);
    // A command that makes things says it starts a new lab.
    const made = await fool(['evolve', ...TINY, '--encoding', 'direct', '--generations', '1', '--db', join(dir, 'new.db')]);
    expect(made.code).toBe(0);
    expect(made.stderr).toMatch(/starting a new lab at .*new\.db/);
  });
});

const ROOT = process.getuid?.() === 0;
const ROOT_REASON = 'mounting a small tmpfs (full disk, read-only medium) needs root';

/** A tmpfs of `size` at a fresh folder; unmounted after the file's tests. */
function tmpfs(size: string): string {
  const dir = join(tempDir('fool-tmpfs-'), 'mnt');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  MOUNTS.push(dir);
  return dir;
}
const MOUNTS: string[] = [];
afterAll(() => {
  for (const m of MOUNTS) execFileSync('umount', ['-l', m]);
});

describe.skipIf(!ROOT)(`a lab on a read-only medium and on a full disk (${ROOT ? 'as root' : `skipped: ${ROOT_REASON}`})`, () => {
  it('a read-only lab: reading and exporting elsewhere work; writing says it is read-only and changes nothing', async () => {
    const mnt = tmpfs('16m');
    const db = join(mnt, 'lab.db');
    expect((await fool(['evolve', ...TINY, '--encoding', 'direct', '--generations', '3', '--db', db])).code).toBe(0);
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    const before = fingerprint(mnt);
    const list = await foolJson<{ runs: { runId: number }[] }>(['runs', 'list', '--db', db]);
    expect(list.runs.map((r) => r.runId)).toEqual([1]);
    const out = join(tempDir(), 'export');
    expect((await fool(['export', '1', '--out', out, '--db', db])).code).toBe(0);
    for (const args of [['evolve', ...TINY, '--encoding', 'direct', '--generations', '1'], ['resume', '1', '--generations', '5']]) {
      const r = await fool([...args, '--db', db]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/read-only.*copy the lab/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(fingerprint(mnt)).toBe(before);
  });

  it('a full disk: a clear message naming the lab, the committed generations kept, and resume finishes once there is room', async () => {
    const mnt = tmpfs('600k');
    const db = join(mnt, 'lab.db');
    const r = await fool(['evolve', ...TINY, '--encoding', 'direct', '--generations', '400', '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/the disk holding .*lab\.db.* is full.*Free some space.*fool resume/);
    // What was committed is intact and readable.
    const shown = await foolJson<{ runs: { generation: number }[] }>(['runs', 'list', '--db', db]);
    const committed = shown.runs[0].generation;
    expect(committed).toBeGreaterThan(0);
    execFileSync('mount', ['-o', 'remount,size=64m', mnt]);
    const resumed = await foolJson<{ generations: number; status: string }>(['resume', '1', '--db', db]);
    expect(resumed).toMatchObject({ generations: 400, status: 'finished' });
    checkLab(db, [{ runId: 1, generations: 400 }]);
    // A copy survives outside the tmpfs for a post-mortem when asked.
    if (process.env.FOOL_KEEP_TEST_DIRS === '1') copyFileSync(db, join(tempDir(), 'full-disk-lab.db'));
    writeFileSync(join(mnt, 'done'), '');
  });
});
