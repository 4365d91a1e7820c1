/**
 * Direct genomes (float32 genes) stored as the genes that differ from a base genome (the parent's).
 * Mutation touches about `rate` of the genes (0.1 in the paper, halving every 1000 generations), so a
 * child costs about 8 * rate bytes a gene instead of 4. Bit-exact: values are copied as float32 bits,
 * so a decoded genome equals the one evolved, and resume stays exact.
 *
 * Layout (little-endian, as the typed arrays of every platform Node runs on): uint32 n, then n uint32
 * gene indices (ascending), then n float32 values.
 */

/** Deltas are chained at most this deep; then a whole genome is stored (a keyframe). */
export const MAX_DELTA_DEPTH = 16;

/** The delta of `genome` against `base` (same length, whole float32 genomes), or null when it would not save at least half. */
export function encodeDelta(genome: Uint8Array, base: Uint8Array): Uint8Array | null {
  if (genome.byteLength !== base.byteLength || genome.byteLength % 4 !== 0) return null;
  const g = words(genome);
  const b = words(base);
  const limit = g.length >> 2; // a delta of n genes takes 4 + 8n bytes; stop once it cannot be under half
  const idx: number[] = [];
  for (let i = 0; i < g.length; i++) {
    if (g[i] !== b[i]) {
      idx.push(i);
      if (idx.length > limit) return null;
    }
  }
  const out = new Uint32Array(1 + 2 * idx.length);
  out[0] = idx.length;
  for (let k = 0; k < idx.length; k++) {
    out[1 + k] = idx[k];
    out[1 + idx.length + k] = g[idx[k]];
  }
  return new Uint8Array(out.buffer);
}

/** `base` with the delta applied: the whole genome, as a fresh buffer. */
export function applyDelta(base: Uint8Array, delta: Uint8Array): Uint8Array {
  const out = new Uint8Array(base); // a copy, in its own aligned buffer
  const genes = new Uint32Array(out.buffer);
  const d = words(delta);
  const n = d[0];
  if (d.length !== 1 + 2 * n) throw new RangeError(`corrupt genome delta: ${d.length} words for ${n} genes`);
  for (let k = 0; k < n; k++) {
    const i = d[1 + k];
    if (i >= genes.length) throw new RangeError(`corrupt genome delta: gene ${i} of ${genes.length}`);
    genes[i] = d[1 + n + k];
  }
  return out;
}

/** The bytes as 32-bit words: a view when they are 4-byte aligned (genomes are), else a copy (blobs from SQLite may sit at any offset). */
function words(bytes: Uint8Array): Uint32Array {
  if (bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  return new Uint32Array(new Uint8Array(bytes).buffer);
}
