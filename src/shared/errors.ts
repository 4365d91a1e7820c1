/**
 * Every failure a user can cause is a FoolError: a code scripts can branch on, and a message that
 * names the problem and then the fix. Hosts print the message; they never print a stack trace for it.
 */
export type ErrorCode =
  | 'NOT_FOUND' // a file, model, run or class that does not exist
  | 'BAD_INPUT' // an argument or request of the wrong form
  | 'BAD_MODEL' // a file that is not a usable ONNX classifier
  | 'MISMATCH' // a manifest, labels file or image that disagrees with the model
  | 'BAD_IMAGE' // an image that cannot be decoded
  | 'BAD_DATABASE' // a database that is not ours, or is newer than this build
  | 'UNSUPPORTED' // an operator or feature the project does not handle (yet)
  | 'IO' // a file that cannot be read or written
  | 'BUSY' // a run that another live process holds
  | 'OFFLINE' // a download whose server cannot be reached
  | 'INTERNAL';

export class FoolError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, problem: string, fix?: string) {
    super(fix ? `${problem}. ${fix}` : problem);
    this.name = 'FoolError';
    this.code = code;
  }
}

export function isFoolError(e: unknown): e is FoolError {
  return e instanceof Error && e.name === 'FoolError' && typeof (e as FoolError).code === 'string';
}

/** Plain form that crosses worker, IPC and HTTP boundaries. */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
}

export function toErrorPayload(e: unknown): ErrorPayload {
  if (isFoolError(e)) return { code: e.code, message: e.message };
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

export function fromErrorPayload(p: ErrorPayload): FoolError {
  const err = new FoolError(p.code, p.message);
  return err;
}
