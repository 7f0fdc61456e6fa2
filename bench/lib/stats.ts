export function median (xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Median over rounds of a[i] / b[i]: ratios are taken inside a round, where the noise is shared. */
export function medianRatio (a: number[], b: number[]): number {
  return median(a.map((x, i) => x / b[i]!))
}

export function round (x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x
  const f = 10 ** digits
  return Math.round(x * f) / f
}
