import { z } from 'zod';

/**
 * The ranges every host accepts for the numbers a user types: the command line's option parsers
 * and the API's schemas both read them from here, so `fool evolve --generations 1e9` and
 * `runs.start { generations: 1e9 }` are refused alike, before anything is written.
 */
export const LIMITS = {
  /** Generations of one run (ImageNet runs in the paper: 5000). */
  generations: { min: 1, max: 1_000_000 },
  /** Images per generation. */
  batch: { min: 1, max: 100_000 },
  seed: { min: 0, max: Number.MAX_SAFE_INTEGER },
  /** Worker threads, each with its own onnxruntime session (each holds the model: ~10 MB to 1 GB). */
  workers: { min: 1, max: 64 },
  threads: { min: 1, max: 256 },
  maxBatch: { min: 1, max: 65_536 },
  port: { min: 0, max: 65_535 },
} as const;

export type LimitName = keyof typeof LIMITS;

/** A zod integer in the named range, for the API's schemas. */
export function limitedInt(name: LimitName): z.ZodNumber {
  const { min, max } = LIMITS[name];
  return z.number().int().min(min).max(max);
}

/** Why `v` is outside the named range, or null when it is inside. */
export function limitProblem(name: LimitName, v: number): string | null {
  const { min, max } = LIMITS[name];
  if (!Number.isInteger(v) || v < min || v > max) return `must be an integer from ${min} to ${max}`;
  return null;
}

/**
 * A folder the lab writes to, named absolutely: a relative one would land in the working folder of
 * whichever host runs the core (a server's, not the user's).
 */
export const absolutePath = z
  .string()
  .min(1)
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\'), { message: 'must be an absolute path (e.g. /home/me/export or C:\\export)' })
  .refine((p) => !p.includes('\0'), { message: 'must not contain NUL' });
