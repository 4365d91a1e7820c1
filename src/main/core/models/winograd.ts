/**
 * Winograd's minimal filtering F(m, r) (Lavin and Gray, "Fast Algorithms for Convolutional Neural
 * Networks", 2016): m outputs of an r-tap correlation from a tile of a = m + r - 1 inputs with a
 * multiplies instead of m * r,
 *
 *   y = A^T [ (G g) * (B^T d) ]     (g: r taps, d: a inputs, *: elementwise)
 *
 * and in 2-D, Y = A^T [ (G g G^T) * (B^T d B) ] A. The matrices come from Toom-Cook: evaluation at
 * a - 1 points plus the point at infinity. They are built here in float64 from the points (not
 * typed in), so the identity holds to float64 rounding; the graph uses them rounded to float32.
 */
export interface WinogradMatrices {
  /** Output tile (m). */
  m: number;
  /** Taps (r). */
  r: number;
  /** Input tile (m + r - 1). */
  a: number;
  /** [m][a] */
  AT: number[][];
  /** [a][r] */
  G: number[][];
  /** [a][a] */
  BT: number[][];
}

function inverse(matrix: number[][]): number[][] {
  const n = matrix.length;
  const w = matrix.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(w[r][c]) > Math.abs(w[pivot][c])) pivot = r;
    [w[c], w[pivot]] = [w[pivot], w[c]];
    const d = w[c][c];
    for (let j = 0; j < 2 * n; j++) w[c][j] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = w[r][c];
      for (let j = 0; j < 2 * n; j++) w[r][j] -= f * w[c][j];
    }
  }
  return w.map((row) => row.slice(n));
}

/**
 * F(m, r) at the finite `points` (a - 1 of them, distinct) and infinity. A^T and G are the
 * Vandermonde evaluations (the infinity row/column picks the leading coefficient); B^T is the
 * inverse of the a x a Vandermonde matrix, the choice that makes sum_j A^T[i][j] G[j][k] B^T[j][l]
 * = [l = i + k] (a correlation). Among the scalings tried for F(4, 5) (this one; B^T's rows
 * scaled to a largest entry of 1; G and B^T rows balanced), this one gave the smallest float32
 * error on LeNet's conv2 (docs/benchmarks.md, training).
 */
export function winogradMatrices(m: number, r: number, points: number[]): WinogradMatrices {
  const a = m + r - 1;
  if (points.length !== a - 1 || new Set(points).size !== points.length) throw new Error(`F(${m}, ${r}) needs ${a - 1} distinct points`);
  const at = (p: number, power: number, j: number, top: number) => (j < a - 1 ? p ** power : power === top ? 1 : 0);
  const AT = Array.from({ length: m }, (_, i) => Array.from({ length: a }, (_, j) => at(points[j], i, j, m - 1)));
  const G = Array.from({ length: a }, (_, j) => Array.from({ length: r }, (_, k) => at(points[j], k, j, r - 1)));
  const V = Array.from({ length: a }, (_, s) => Array.from({ length: a }, (_, j) => at(points[j], s, j, a - 1)));
  return { m, r, a, AT, G, BT: inverse(V) };
}

/** F(4, 5) at 0, +-1, +-2, +-1/2 (the usual, best-conditioned small points for 8-point tiles). */
export const F4x5 = winogradMatrices(4, 5, [0, 1, -1, 2, -2, 0.5, -0.5]);

/**
 * B^T applied to every tile of a line of pixels at once: `tiles` tiles of `a` inputs at a stride of
 * `m` (they overlap by r - 1), as one [(a * tiles) x line] matrix whose row (xi, t) reads tile t.
 * Multiplying by it gathers the tiles and transforms them in one product; its transpose, in the
 * backward, transforms back and sums the overlaps. Row-major, flat.
 */
export function tiledBT(w: WinogradMatrices, tiles: number): number[] {
  const line = w.m * (tiles - 1) + w.a;
  const out = new Array<number>(w.a * tiles * line).fill(0);
  for (let xi = 0; xi < w.a; xi++) for (let t = 0; t < tiles; t++) for (let u = 0; u < w.a; u++) out[(xi * tiles + t) * line + t * w.m + u] = w.BT[xi][u];
  return out;
}

/** G g G^T for every r x r kernel as one [a^2 x r^2] matrix: row (eta, xi), column (ky, kx). Row-major, flat. */
export function kernelTransform(w: WinogradMatrices): number[] {
  const out: number[] = [];
  for (let eta = 0; eta < w.a; eta++) for (let xi = 0; xi < w.a; xi++) for (let ky = 0; ky < w.r; ky++) for (let kx = 0; kx < w.r; kx++) out.push(w.G[eta][ky] * w.G[xi][kx]);
  return out;
}
