/**
 * The one way the lab writes a confidence (CLI, app, reports, exports). The paper's story is the
 * climb from 99% to 99.99% to 99.9999%, so a fixed two decimals hides it: the number of digits
 * follows how close p is to 1 (two significant digits of 1 - p), and a value is never rounded up,
 * so nothing below a threshold (99.99%) ever reads as it. Above 99.9999% the percentage would need
 * too many nines to read; there the distance to 1 is written instead: "1 - 3.2e-8".
 *
 * Only confidences (softmax outputs) go through here; shares ("40% of the images") and accuracies
 * are ordinary percentages.
 */

/** Beyond this many nines (1 - p < 1e-6) the distance to 1 is written instead of a percentage. */
const PERCENT_LIMIT = 1e-6;

/**
 * Rounds away binary noise (0.29 * 100 = 28.999999999999996) before flooring. Twelve significant
 * digits keep every float32 softmax output distinct from the thresholds next to it (the float32
 * just below 0.9999 is 0.99989998...), so flooring still never reaches a threshold from below.
 */
const clean = (x: number): number => Number(x.toPrecision(12));

/** `x` rounded down to `d` decimals, as text. */
function floorFixed(x: number, d: number): string {
  const f = 10 ** d;
  return (Math.floor(clean(x * f)) / f).toFixed(d);
}

/**
 * A confidence in [0, 1] as text: "87.31%", "99.989%", "99.9987%", "1 - 3.2e-8"; "<0.01%" for
 * the small probabilities of runners-up.
 * Missing or non-finite values read "-".
 */
export function formatConfidence(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '-';
  if (p >= 1) return '100%'; // float32 softmax saturates: stored as exactly 1
  if (p <= 0) return '0.00%';
  // Flooring would print a runner-up's 0.003% as "0.00%", as if it were nothing.
  if (p < 1e-4) return '<0.01%';
  const r = clean(1 - p);
  if (r < PERCENT_LIMIT) {
    // The distance to 1 rounded UP (p rounded down), two significant digits.
    let e = Math.floor(Math.log10(r));
    let m = Math.ceil(clean((r / 10 ** e) * 10)) / 10;
    if (m >= 10) {
      m = 1;
      e += 1;
    }
    return `1 - ${m.toFixed(1)}e${e}`;
  }
  // Two significant digits of the remainder (100 - percentage): 99.989% leaves 0.011%.
  const digits = Math.max(2, 1 - Math.floor(Math.log10(r * 100)));
  // Zeros past the second decimal say nothing (exactly 0.9999 reads "99.99%", not "99.990%").
  return `${floorFixed(p * 100, digits).replace(/(\.\d\d\d*?)0+$/, '$1')}%`;
}

/**
 * How many nines p has: -log10(1 - p). 0.9 -> 1, 0.99 -> 2, 0.9999 -> 4. The axis on which the
 * lab draws confidence, so 99%, 99.99% and 99.9999% lie evenly apart. Capped at `cap` (float32
 * cannot tell p from 1 beyond about 7.2 nines; a saturated 1.0 would be infinite).
 */
export function nines(p: number, cap = 8): number {
  if (!Number.isFinite(p)) return NaN;
  const r = 1 - p;
  if (r <= 10 ** -cap) return cap;
  return Math.max(0, -Math.log10(r));
}

/** The inverse of `nines`: 2 -> 0.99. */
export function fromNines(n: number): number {
  return 1 - 10 ** -n;
}

/** An axis label for a whole number of nines: 1 -> "90%", 4 -> "99.99%", 0 -> "0%". */
export function ninesLabel(n: number): string {
  if (n <= 0) return '0%';
  if (Number.isInteger(n)) return n === 1 ? '90%' : n === 2 ? '99%' : `99.${'9'.repeat(n - 2)}%`;
  return formatConfidence(fromNines(n));
}
