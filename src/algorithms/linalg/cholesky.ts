/**
 * Dense symmetric positive-definite factorizations in float64, for GPTQ (row-major n×n Float64Arrays).
 * GPTQ needs U, the upper Cholesky factor of H⁻¹ (H⁻¹ = UᵀU). Instead of inverting H and factoring the
 * inverse (the reference implementation's three n³ steps), U comes from one Cholesky and one triangular
 * inverse: with J the order reversal, JHJ = L·Lᵀ gives H = V·Vᵀ for the upper triangular V = J·L·J, so
 * H⁻¹ = V⁻ᵀ·V⁻¹ and U = V⁻¹ = J·L⁻¹·J (upper, positive diagonal: the unique Cholesky factor).
 */

/** Thrown when a matrix is not (numerically) positive definite. */
export class NotPositiveDefinite extends Error {
  constructor(readonly pivot: number) {
    super(`the matrix is not positive definite (pivot ${pivot})`);
  }
}

/** L, lower triangular with a positive diagonal, such that A = L·Lᵀ. */
export function choleskyLower(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= l[rj + k] * l[rj + k];
    if (!(d > 0)) throw new NotPositiveDefinite(j);
    const djj = Math.sqrt(d);
    l[rj + j] = djj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
      l[ri + j] = s / djj;
    }
  }
  return l;
}

/** The inverse of a lower triangular L (itself lower triangular). */
export function invertLower(l: Float64Array, n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    // Row i of L·M = e_i: M[i, j] = −(Σ_{k<i} L[i, k]·M[k, j]) / L[i, i] for j < i.
    for (let k = 0; k < i; k++) {
      const lik = l[ri + k];
      if (lik === 0) continue;
      const rk = k * n;
      for (let j = 0; j <= k; j++) m[ri + j] -= lik * m[rk + j];
    }
    const inv = 1 / l[ri + i];
    for (let j = 0; j < i; j++) m[ri + j] *= inv;
    m[ri + i] = inv;
  }
  return m;
}

/** U, upper triangular with a positive diagonal, such that H⁻¹ = Uᵀ·U (see above). */
export function inverseCholeskyUpper(h: Float64Array, n: number): Float64Array {
  const reversed = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) reversed[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)];
  }
  const m = invertLower(choleskyLower(reversed, n), n);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) u[i * n + j] = m[(n - 1 - i) * n + (n - 1 - j)];
  }
  return u;
}
