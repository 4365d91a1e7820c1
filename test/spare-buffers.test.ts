import { describe, expect, it } from 'vitest';
import { SpareBuffers } from '../src/main/core/workers/spare-buffers';

describe('SpareBuffers (job buffers that come back from the workers)', () => {
  it('gives back a spare buffer that fits, and allocates when none does', () => {
    const s = new SpareBuffers(4);
    const a = new ArrayBuffer(1000);
    s.give(a);
    expect(s.take(900)).toBe(a);
    // taken: no longer spare
    expect(s.take(900)).not.toBe(a);
    s.give(a);
    // too small for this job: a new one
    const b = s.take(2000);
    expect(b).not.toBe(a);
    expect(b.byteLength).toBe(2000);
  });

  it('does not hand a much larger buffer to a small job', () => {
    const s = new SpareBuffers(4);
    const big = new ArrayBuffer(100_000);
    s.give(big);
    expect(s.take(1000)).not.toBe(big);
    expect(s.take(60_000)).toBe(big);
  });

  it('picks the smallest spare buffer that fits', () => {
    const s = new SpareBuffers(4);
    const [x, y] = [new ArrayBuffer(5000), new ArrayBuffer(3000)];
    s.give(x);
    s.give(y);
    expect(s.take(2500)).toBe(y);
  });

  it('holds at most `keep` buffers and `maxBytes` bytes, and never one above a quarter of that', () => {
    const s = new SpareBuffers(2, 4000);
    const bufs = [new ArrayBuffer(900), new ArrayBuffer(900), new ArrayBuffer(900)];
    for (const b of bufs) s.give(b);
    // the oldest went
    expect(s.take(900)).toBe(bufs[1]);
    expect(s.take(900)).toBe(bufs[2]);
    const huge = new ArrayBuffer(1001);
    s.give(huge);
    expect(s.take(1001)).not.toBe(huge);
    // detached or missing buffers are ignored
    s.give(undefined);
    s.give(new ArrayBuffer(0));
    expect(s.take(10).byteLength).toBe(10);
  });
});
