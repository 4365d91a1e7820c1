import { FoolError, isFoolError } from '../../shared/errors';

/**
 * Turns the errors the system raises (SQLite's, the file system's) into a FoolError that names
 * the file and the fix, instead of "database or disk is full" with neither. `dbPath` is the lab,
 * named when the error carries no path of its own. Anything else is returned as it was.
 */
export function explainError(e: unknown, dbPath?: string): unknown {
  if (isFoolError(e) || !(e instanceof Error)) return e;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const path = (e as NodeJS.ErrnoException).path ?? dbPath ?? 'the lab';
  const kept = 'Nothing committed was lost; "fool resume RUN" continues a run from its last committed generation';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || /no space left on device/i.test(e.message)) {
    return new FoolError('IO', `the disk holding ${path} is full`, `Free some space there and run the command again. ${kept}`);
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') {
    return new FoolError('IO', `${path} is read-only: this command needs to write to it`, 'Make it writable, or copy the lab (the .db file and its .models folder) to a writable folder and pass the copy with --db');
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new FoolError('IO', `permission denied on ${path}`, 'Check its permissions, or choose a file or folder you can write to');
  }
  if (code === 'EISDIR') return new FoolError('BAD_INPUT', `${path} is a folder, not a file`, 'Pass a file');
  if (code === 'ENOTDIR') return new FoolError('BAD_INPUT', `a part of ${path} is a file, not a folder`, 'Check the path');
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new FoolError('BUSY', `${path} stayed locked by another process for too long`, 'Run the command again when the other process is done with the lab');
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new FoolError('BAD_DATABASE', `${path} is damaged (${e.message})`, 'Restore it from a backup, or pass another --db');
  }
  if (code.startsWith('SQLITE_IOERR')) return new FoolError('IO', `cannot read or write ${path} (${code})`, `Check the disk. ${kept}`);
  return e;
}
