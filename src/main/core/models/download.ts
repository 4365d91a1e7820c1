import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, openSync, closeSync, rmSync, statSync, writeSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { FoolError } from '../../../shared/errors';

/**
 * A resumable, verified download: bytes go to DEST.part; after an interruption (a dropped
 * connection, Ctrl-C, a crash) the next attempt asks the server for the rest with an HTTP Range
 * request. The file becomes DEST only when its size and SHA-256 match the pinned ones; a file that
 * does not match is deleted, never used.
 */
export interface DownloadRequest {
  url: string;
  dest: string;
  bytes: number;
  sha256: string;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Attempts after a connection drops mid-file (each resumes where the last stopped). */
  retries?: number;
}

export interface DownloadResult {
  path: string;
  /** Bytes that were already on disk from an earlier attempt. */
  resumedFrom: number;
  /** Connections it took. */
  attempts: number;
}

/** Errors of reaching a server at all, as opposed to losing it halfway. */
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

function causeCode(e: unknown): string | undefined {
  let c: unknown = e;
  for (let i = 0; i < 5 && c; i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Thrown when the server cannot be reached at all; the caller knows what to tell the user. */
export class UnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach ${new URL(url).host} (${reason})`);
    this.name = 'UnreachableError';
  }
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

export async function download(req: DownloadRequest): Promise<DownloadResult> {
  const part = `${req.dest}.part`;
  mkdirSync(dirname(req.dest), { recursive: true });
  const resumedFrom = existsSync(part) ? statSync(part).size : 0;
  let attempts = 0;
  const retries = req.retries ?? 3;
  for (;;) {
    let have = existsSync(part) ? statSync(part).size : 0;
    if (have > req.bytes) {
      rmSync(part); // not the file we want: start over
      have = 0;
    }
    if (have === req.bytes) break;
    attempts++;
    try {
      await fetchInto(req, part, have);
      break;
    } catch (e) {
      if (e instanceof FoolError || e instanceof UnreachableError) throw e;
      if (req.signal?.aborted) {
        throw new FoolError('IO', `download stopped at ${mb(statSync(part).size)} of ${mb(req.bytes)}`, 'Run the same command again: it resumes where it stopped');
      }
      const got = existsSync(part) ? statSync(part).size : 0;
      if (attempts > retries) {
        throw new FoolError(
          'IO',
          `the download of ${req.url} broke off ${attempts} times (last at ${mb(got)} of ${mb(req.bytes)}: ${(e as Error).message})`,
          'Run the same command again: it resumes where it stopped',
        );
      }
      await new Promise((r) => setTimeout(r, 250 * 2 ** (attempts - 1)));
    }
  }

  // Verify before the file takes its name: size, then SHA-256 over the whole file.
  const size = statSync(part).size;
  const hash = createHash('sha256');
  await hashFile(part, hash);
  const digest = hash.digest('hex');
  if (size !== req.bytes || digest !== req.sha256.toLowerCase()) {
    rmSync(part, { force: true });
    throw new FoolError(
      'BAD_MODEL',
      `the file from ${req.url} is not the expected one (${size} bytes, SHA-256 ${digest}; expected ${req.bytes} bytes, SHA-256 ${req.sha256}) and was deleted`,
      'Try again later; if it stays so, the file at that address changed: get the model elsewhere and add it with "fool models add"',
    );
  }
  renameSync(part, req.dest);
  return { path: req.dest, resumedFrom, attempts };
}

async function fetchInto(req: DownloadRequest, part: string, have: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(req.url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal: req.signal, redirect: 'follow' });
  } catch (e) {
    const code = causeCode(e);
    if (code && UNREACHABLE.has(code)) throw new UnreachableError(req.url, code);
    throw e;
  }
  if (res.status === 416 && have > 0) {
    // The server has nothing after byte `have`: the part may be whole already (verified by the caller).
    await res.body?.cancel();
    return;
  }
  if (!(res.status === 200 || res.status === 206)) {
    await res.body?.cancel();
    throw new FoolError('IO', `${req.url} answered HTTP ${res.status} ${res.statusText}`, res.status === 404 ? 'The file moved: get the model elsewhere and add it with "fool models add"' : 'Try again later');
  }
  // A server that ignores Range sends the whole file again: start over rather than append.
  const append = res.status === 206 && have > 0;
  const fd = openSync(part, append ? 'a' : 'w');
  let done = append ? have : 0;
  let tooMuch = false;
  try {
    req.onProgress?.(done, req.bytes);
    if (!res.body) throw new Error('empty response');
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      writeSync(fd, chunk);
      done += chunk.length;
      if (done > req.bytes) {
        tooMuch = true;
        break;
      }
      req.onProgress?.(done, req.bytes);
    }
  } finally {
    closeSync(fd);
  }
  if (tooMuch) {
    rmSync(part, { force: true });
    throw new FoolError('BAD_MODEL', `${req.url} sends more than the expected ${req.bytes} bytes`, 'The file at that address changed: get the model elsewhere and add it with "fool models add"');
  }
  if (done < req.bytes) throw new Error(`connection closed at ${mb(done)}`);
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}
