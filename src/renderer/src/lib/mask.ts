/** Ablation masks: one byte per image pixel (1 = replaced by the fill), sent as base64. */
export class Mask {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height);
  }

  /** Paints (or erases) a disc of radius r image pixels centred on (cx, cy). */
  disc(cx: number, cy: number, r: number, value: 0 | 1): void {
    const x0 = Math.max(0, Math.floor(cx - r));
    const x1 = Math.min(this.width - 1, Math.ceil(cx + r));
    const y0 = Math.max(0, Math.floor(cy - r));
    const y1 = Math.min(this.height - 1, Math.ceil(cy + r));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        if (dx * dx + dy * dy <= r * r) this.data[y * this.width + x] = value;
      }
    }
  }

  rect(x: number, y: number, w: number, h: number, value: 0 | 1): void {
    for (let j = Math.max(0, y); j < Math.min(this.height, y + h); j++) {
      this.data.fill(value, j * this.width + Math.max(0, x), j * this.width + Math.min(this.width, x + w));
    }
  }

  /** An annulus around (cx, cy): pixels whose rounded distance is in [inner, outer) (the core's ring copies). */
  ring(cx: number, cy: number, inner: number, outer: number, value: 0 | 1): void {
    for (let y = Math.max(0, Math.floor(cy - outer)); y <= Math.min(this.height - 1, Math.ceil(cy + outer)); y++) {
      for (let x = Math.max(0, Math.floor(cx - outer)); x <= Math.min(this.width - 1, Math.ceil(cx + outer)); x++) {
        const r = Math.round(Math.hypot(x - cx, y - cy));
        if (r >= inner && r < outer) this.data[y * this.width + x] = value;
      }
    }
  }

  /** A motif's copy: its box, or its annulus for a ring. */
  copy(c: { x: number; y: number; width: number; height: number; ring?: { cx: number; cy: number; inner: number; outer: number } }, value: 0 | 1): void {
    if (c.ring) this.ring(c.ring.cx, c.ring.cy, c.ring.inner, c.ring.outer, value);
    else this.rect(c.x, c.y, c.width, c.height, value);
  }

  clear(): void {
    this.data.fill(0);
  }

  count(): number {
    let n = 0;
    for (const v of this.data) n += v;
    return n;
  }

  toBase64(): string {
    // btoa takes a binary string; build it in chunks so large masks do not overflow the call stack.
    let s = '';
    for (let i = 0; i < this.data.length; i += 0x8000) s += String.fromCharCode(...this.data.subarray(i, i + 0x8000));
    return btoa(s);
  }
}
