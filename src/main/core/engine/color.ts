/**
 * HSV/HLS -> RGB with OpenCV's 8-bit conventions (cv::cvtColor COLOR_HSV2RGB / COLOR_HLS2RGB on CV_8UC3),
 * which is what the released code applied to its images (it used HLS2BGR; the paper says HSV).
 *
 * Ranges of the 8-bit inputs, all integers:
 * - H in 0..255 is half-degrees: hue = 2 * H degrees, so 0..179 covers the circle once and, as in
 *   OpenCV, 180..255 wrap around (H = 200 is 400 deg = 40 deg). A gene g in [0,1] gives H = int(g * 255),
 *   so hues are not uniform: the first 42% of the circle is hit twice as often.
 * - S, V, L in 0..255 are fractions S/255, V/255, L/255.
 * Output R, G, B in 0..255: round(x * 255) of OpenCV's float formulas (computed here in double; OpenCV
 * rounds half to even in float, so a value may differ by 1 in rare ties).
 * Channel order of the inputs is H, S, V (hsv) or H, L, S (hls) as in OpenCV's Mat.
 */

const INV255 = 1 / 255;

/** x in [0, 1] (always so for these formulas) -> nearest byte. */
function round8(x: number): number {
  return (x * 255 + 0.5) | 0;
}

/** Per 8-bit hue: its sector and position within it, as OpenCV's fmod(H * 6/180, 6) gives them. */
const HSCALE = 6 / 180; // 8-bit hue range 180 -> six sectors of 60 degrees
const SECTOR = new Uint8Array(256);
const FRAC = new Float64Array(256);
for (let h8 = 0; h8 < 256; h8++) {
  const h = (h8 * HSCALE) % 6; // hues 180..255 wrap around
  SECTOR[h8] = Math.floor(h);
  FRAC[h8] = h - Math.floor(h);
}

/**
 * Writes the sector's permutation of (t0..t3) as R, G, B. Same as OpenCV's
 * sector_data {{1,3,0},{1,0,2},{3,0,1},{0,2,1},{0,1,3},{2,1,0}} (given there as b, g, r indices).
 * No arrays: this runs once per pixel of every 256x256 image.
 */
function put(sec: number, t0: number, t1: number, t2: number, t3: number, out: Uint8Array, o: number): void {
  let r: number, g: number, b: number;
  switch (sec) {
    case 0: r = t0; g = t3; b = t1; break;
    case 1: r = t2; g = t0; b = t1; break;
    case 2: r = t1; g = t0; b = t3; break;
    case 3: r = t1; g = t2; b = t0; break;
    case 4: r = t3; g = t1; b = t0; break;
    default: r = t0; g = t1; b = t2; break;
  }
  out[o] = round8(r);
  out[o + 1] = round8(g);
  out[o + 2] = round8(b);
}

/** 8-bit H, S, V -> R, G, B written to out[o], out[o+1], out[o+2]. */
export function hsv8ToRgb8(h8: number, s8: number, v8: number, out: Uint8Array, o: number): void {
  const s = s8 * INV255;
  const v = v8 * INV255;
  if (s === 0) {
    out[o] = out[o + 1] = out[o + 2] = round8(v);
    return;
  }
  const sec = SECTOR[h8];
  const h = FRAC[h8];
  put(sec, v, v * (1 - s), v * (1 - s * h), v * (1 - s * (1 - h)), out, o);
}

/** 8-bit H, L, S -> R, G, B written to out[o], out[o+1], out[o+2]. */
export function hls8ToRgb8(h8: number, l8: number, s8: number, out: Uint8Array, o: number): void {
  const l = l8 * INV255;
  const s = s8 * INV255;
  if (s === 0) {
    out[o] = out[o + 1] = out[o + 2] = round8(l);
    return;
  }
  const p2 = l <= 0.5 ? l * (1 + s) : l + s - l * s;
  const p1 = 2 * l - p2;
  const sec = SECTOR[h8];
  const h = FRAC[h8];
  put(sec, p2, p1, p1 + (p2 - p1) * (1 - h), p1 + (p2 - p1) * h, out, o);
}

/** Convenience for one pixel: 8-bit H, S, V -> [R, G, B]. */
export function hsvToRgb(h8: number, s8: number, v8: number): [number, number, number] {
  const o = new Uint8Array(3);
  hsv8ToRgb8(h8, s8, v8, o, 0);
  return [o[0], o[1], o[2]];
}

/** Convenience for one pixel: 8-bit H, L, S -> [R, G, B]. */
export function hlsToRgb(h8: number, l8: number, s8: number): [number, number, number] {
  const o = new Uint8Array(3);
  hls8ToRgb8(h8, l8, s8, o, 0);
  return [o[0], o[1], o[2]];
}

/** Converts an HWC buffer of 8-bit HSV or HLS triples to RGB, in place. */
export function toRgbInPlace(buf: Uint8Array, colorSpace: 'hsv' | 'hls'): void {
  const f = colorSpace === 'hsv' ? hsv8ToRgb8 : hls8ToRgb8;
  for (let o = 0; o < buf.length; o += 3) f(buf[o], buf[o + 1], buf[o + 2], buf, o);
}
