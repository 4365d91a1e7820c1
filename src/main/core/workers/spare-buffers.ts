/**
 * Buffers that go to a worker with a job and come back with its answer, to carry the next job.
 * A batch's part is then copied into memory already mapped instead of a fresh allocation per call
 * (a fresh 50-400 KB ArrayBuffer is zero-filled and often page-faulted in: at batch 128 that was
 * the larger part of the main thread's time before a classification reached its workers;
 * docs/benchmarks.md, issue 15 target 3).
 */
export class SpareBuffers {
  private free: ArrayBuffer[] = [];
  private held = 0;

  /**
   * keep: how many buffers to hold at most (those in flight are not held); maxBytes: how much memory
   * at most. A buffer above a quarter of that is not kept: a job that large (e.g. 64 ImageNet-size
   * images) runs for far longer than its allocation takes, and holding it would tie up memory.
   */
  constructor(
    private readonly keep: number,
    private readonly maxBytes = 16 * 1024 * 1024,
  ) {}

  /** A buffer of at least `bytes` bytes: a spare one that is not much larger, or a new one. */
  take(bytes: number): ArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const len = this.free[i].byteLength;
      // Not much larger: a small job must not tie up a large buffer that a large job then re-allocates.
      if (len >= bytes && len <= 2 * bytes + 4096 && (best < 0 || len < this.free[best].byteLength)) best = i;
    }
    if (best < 0) return new ArrayBuffer(bytes);
    const [buffer] = this.free.splice(best, 1);
    this.held -= buffer.byteLength;
    return buffer;
  }

  /** A buffer back from a worker (one that did not come back, or was detached, is simply not kept). */
  give(buffer: ArrayBuffer | undefined): void {
    if (!buffer || buffer.byteLength === 0 || buffer.byteLength > this.maxBytes / 4) return;
    while (this.free.length > 0 && (this.free.length >= this.keep || this.held + buffer.byteLength > this.maxBytes)) this.held -= this.free.shift()!.byteLength;
    this.free.push(buffer);
    this.held += buffer.byteLength;
  }
}
