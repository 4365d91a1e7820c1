import FFT from 'fft.js';

/**
 * Is a picture (a grey image, or one CPPN node's activation over the image) periodic, and with what
 * period? The question behind the paper's "repetition helps": a CPPN repeats an element when a sine
 * of x, y or d sits in the network, and the image shows it as stripes, grids or rings.
 *
 * Method: the 2-D power spectrum (Hann-windowed, zero-padded to a power of two, fft.js), summed over
 * rings of equal spatial frequency. A periodic picture puts most of its energy in one narrow ring,
 * whatever its orientation: stripes as two opposite peaks, a grid as four, concentric rings as a
 * whole circle. Noise spreads evenly over the rings; smooth pictures (ramps, blobs) pile theirs up at
 * the lowest frequencies and never rise to a peak. The period is the power-weighted mean frequency
 * of the ring (sub-bin accurate); the angular spread of that ring says stripes, grid or rings.
 */

export type PeriodicKind = 'stripes' | 'grid' | 'rings';

export interface Periodicity {
  /** Pixels per repeat (of the strongest repetition). */
  period: number;
  kind: PeriodicKind;
  /**
   * Direction in which the picture varies, degrees in [0, 180): 0 = along x (vertical stripes),
   * 90 = along y (horizontal stripes). For a grid, its first axis; for rings, 0.
   */
  angle: number;
  /** Share of the picture's energy (mean removed) in the peak ring, 0..1. */
  strength: number;
}

export interface PeriodicityOptions {
  /** Smallest share of the energy in the peak ring. */
  minStrength?: number;
  /** Smallest ratio of the ring's mean power to the mean power over all frequencies. */
  minContrast?: number;
  /** Fewest repeats across the image's shorter side that count as repetition. */
  minRepeats?: number;
}

const ffts = new Map<number, FFT>();
function fftOf(n: number): FFT {
  let f = ffts.get(n);
  if (!f) ffts.set(n, (f = new FFT(n)));
  return f;
}

const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(4, n)));

/**
 * The power spectrum of the windowed picture, N x N (N: the next power of two of the longer side),
 * DC at index 0. Pure function; about 10 ms for 256 x 256.
 */
export function powerSpectrum(values: ArrayLike<number>, width: number, height: number): { power: Float64Array; n: number } {
  const N = nextPow2(Math.max(width, height));
  let mean = 0;
  for (let i = 0; i < width * height; i++) mean += values[i];
  mean /= width * height;
  const wx = hann(width);
  const wy = hann(height);
  // Rows first (complex FFT of the real rows), then columns.
  const f = fftOf(N);
  const re = new Float64Array(N * N);
  const im = new Float64Array(N * N);
  const inp = f.createComplexArray() as number[];
  const out = f.createComplexArray() as number[];
  for (let y = 0; y < height; y++) {
    inp.fill(0);
    for (let x = 0; x < width; x++) inp[2 * x] = (values[y * width + x] - mean) * wx[x] * wy[y];
    f.transform(out, inp);
    for (let u = 0; u < N; u++) {
      re[y * N + u] = out[2 * u];
      im[y * N + u] = out[2 * u + 1];
    }
  }
  const power = new Float64Array(N * N);
  for (let u = 0; u < N; u++) {
    for (let y = 0; y < N; y++) {
      inp[2 * y] = re[y * N + u];
      inp[2 * y + 1] = im[y * N + u];
    }
    f.transform(out, inp);
    for (let v = 0; v < N; v++) power[v * N + u] = out[2 * v] ** 2 + out[2 * v + 1] ** 2;
  }
  return { power, n: N };
}

function hann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = n > 1 ? 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)) : 1;
  return w;
}

/** The strongest repetition of the picture, or null when it does not repeat. */
export function detectPeriod(values: ArrayLike<number>, width: number, height: number, opts: PeriodicityOptions = {}): Periodicity | null {
  const minStrength = opts.minStrength ?? 0.3;
  const minContrast = opts.minContrast ?? 4;
  const minRepeats = opts.minRepeats ?? 2;
  if (width < 8 || height < 8) return null;
  const { power, n: N } = powerSpectrum(values, width, height);
  // Radial profile: energy and coefficient count per ring of integer radius (in padded bins).
  const R = Math.ceil((N / 2) * Math.SQRT2) + 2;
  const energy = new Float64Array(R);
  const count = new Float64Array(R);
  let total = 0;
  for (let v = 0; v < N; v++) {
    const fv = v < N / 2 ? v : v - N;
    for (let u = 0; u < N; u++) {
      const fu = u < N / 2 ? u : u - N;
      const r = Math.round(Math.hypot(fu, fv));
      const p = power[v * N + u];
      energy[r] += p;
      count[r]++;
      if (r > 0) total += p;
    }
  }
  if (!(total > 1e-12 * N * N)) return null; // a flat picture
  // Radii a repetition may have: at least minRepeats periods across the shorter side, and a period of
  // at least 2 pixels (Nyquist). The ring at r holds periods N / r pixels.
  const rMin = Math.max(1, Math.ceil((minRepeats * N) / Math.min(width, height)));
  const rMax = Math.floor(N / 2);
  const band = (r: number) => energy[r - 1] + energy[r] + (energy[r + 1] ?? 0);
  let peak = -1;
  for (let r = rMin; r <= rMax; r++) if (peak < 0 || band(r) > band(peak)) peak = r;
  if (peak < 0) return null;
  // A pattern that is not a pure sine (hard stripes, thin grid lines) also puts energy at multiples of
  // its frequency, and a train of thin lines may even peak at a multiple: the fundamental is the
  // lowest sub-multiple of the peak that still holds a good part of the peak's energy.
  let best = peak;
  for (let m = 4; m >= 2; m--) {
    const r0 = Math.round(peak / m);
    if (r0 >= rMin && Math.abs(r0 * m - peak) <= 1 && band(r0) >= 0.25 * band(peak)) {
      best = r0;
      break;
    }
  }
  // Energy of the fundamental and its harmonics (rings of +-1 bin, not overlapping when best >= 3).
  let bestE = band(best);
  if (best >= 3) for (let k = 2; Math.round(k * best) + 1 < R && k * best <= rMax * 1.5; k++) bestE += band(Math.round(k * best));
  const strength = bestE / total;
  const meanPower = (r: number) => (count[r] > 0 ? energy[r] / count[r] : 0);
  const bandMean = band(best) / (count[best - 1] + count[best] + count[best + 1]);
  const contrast = bandMean / (total / (N * N - 1));
  // A real peak rises from below: smooth pictures (ramps, blobs: 1/f^2-like spectra) fall from the
  // lowest frequencies on, so somewhere below the band the mean power must dip well under its top.
  let peakPower = 0;
  for (let r = best - 1; r <= best + 1; r++) peakPower = Math.max(peakPower, meanPower(r));
  let dip = Number.POSITIVE_INFINITY;
  for (let r = 1; r <= best - 2; r++) dip = Math.min(dip, meanPower(r));
  const rises = Number.isFinite(dip) && peakPower > 3 * dip;
  if (strength < minStrength || contrast < minContrast || !rises) return null;

  // The ring's frequency (sub-bin) and the angular distribution of its power.
  const ANGLES = 36;
  const byAngle = new Float64Array(ANGLES);
  let sp = 0;
  let sfp = 0;
  for (let v = 0; v < N; v++) {
    const fv = v < N / 2 ? v : v - N;
    for (let u = 0; u < N; u++) {
      const fu = u < N / 2 ? u : u - N;
      const rho = Math.hypot(fu, fv);
      if (Math.abs(rho - best) > 2) continue;
      const p = power[v * N + u];
      sp += p;
      sfp += p * rho;
      let a = (Math.atan2(fv, fu) * 180) / Math.PI;
      if (a < 0) a += 180;
      if (a >= 180) a -= 180;
      byAngle[Math.floor((a / 180) * ANGLES) % ANGLES] += p;
    }
  }
  const period = N / (sfp / sp);
  // Directions within the window's spread of the ring (wider on small pictures, where a bin is a wide angle).
  const halfWidth = Math.max(1, Math.ceil(((Math.atan2(2.5, best) * 180) / Math.PI) / (180 / ANGLES)));
  const share = (k: number) => {
    let s = 0;
    for (let d = -halfWidth; d <= halfWidth; d++) s += byAngle[(k + d + ANGLES) % ANGLES];
    return s / sp;
  };
  const top = argmax(byAngle);
  const angleOf = (k: number) => Math.round(((k + 0.5) * 180) / ANGLES) % 180;
  let kind: PeriodicKind = 'rings';
  let angle = 0;
  if (share(top) >= 0.7) {
    kind = 'stripes';
    angle = angleOf(top);
  } else {
    // The strongest direction at least 45 degrees away from the first.
    let second = -1;
    for (let k = 0; k < ANGLES; k++) {
      const d = Math.min(Math.abs(k - top), ANGLES - Math.abs(k - top));
      if (d >= ANGLES / 4 && (second < 0 || byAngle[k] > byAngle[second])) second = k;
    }
    if (second >= 0 && share(top) + share(second) >= 0.7) {
      kind = 'grid';
      angle = Math.min(angleOf(top), angleOf(second));
    }
  }
  return { period, kind, angle, strength };
}

function argmax(a: ArrayLike<number>): number {
  let k = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[k]) k = i;
  return k;
}
