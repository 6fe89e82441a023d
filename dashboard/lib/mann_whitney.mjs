// SPDX-License-Identifier: MIT
// The Mann-Whitney U test (Wilcoxon rank-sum), two-sided, as Google Benchmark's compare.py uses
// it to tell whether two sets of repetitions differ.
//
// Given samples x (n1 values) and y (n2 values):
//   1. Rank all n1 + n2 values together, smallest first; tied values share the mean of the ranks
//      they span.
//   2. U1 = R1 - n1(n1 + 1)/2, where R1 is the sum of x's ranks: the number of (x, y) pairs with
//      x > y, ties counting one half. U2 = n1 n2 - U1.
//   3. Under the null hypothesis (both samples from one distribution) every assignment of the
//      n1 + n2 ranks to the two samples is equally likely. The two-sided p-value is the
//      probability of a U at least as far from n1 n2 / 2 as the one observed:
//      p = min(1, 2 min(P(U <= U1), P(U >= U1))).
//      - Exact, when there are no ties and n1, n2 <= kExactLimit: the number of assignments
//        giving each U follows c(m, n, u) = c(m - 1, n, u - n) + c(m, n - 1, u) (the largest of
//        the m + n values belongs either to x, and is above all n y's, or to y), with
//        c(m, 0, u) = c(0, n, u) = [u == 0]; divide by C(n1 + n2, n1).
//      - Otherwise the normal approximation with a continuity correction and the tie correction
//        of the variance:
//          mean  = n1 n2 / 2
//          var   = n1 n2 / 12 * ((N + 1) - sum(t^3 - t) / (N (N - 1))),  N = n1 + n2,
//                  t = the size of each group of tied values
//          z     = (|U1 - mean| - 1/2) / sqrt(var),  p = 2 (1 - Phi(z)) = erfc(z / sqrt 2).
//      (scipy.stats.mannwhitneyu, which compare.py calls, makes the same choice with its own
//      thresholds; p-values of small samples may differ slightly between the two methods.)
//
// With fewer than kMinRepetitions values on either side there is no test (p is null): compare.py
// has the same minimum, and recommends 9 repetitions. Note that with 2 or 3 repetitions a
// two-sided p can never go below 0.05 (the smallest exact p for 3 against 3 is 0.1).

export const kMinRepetitions = 2;
export const kExactLimit = 50;

// Ranks of `values` (1-based, ties averaged) and the sizes of the tie groups.
export function rank(values) {
  const order = values.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]);
  const ranks = new Array(values.length);
  const ties = [];
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && order[end][0] === order[start][0]) ++end;
    const shared = (start + 1 + end) / 2;  // mean of ranks start+1 .. end
    for (let k = start; k < end; ++k) ranks[order[k][1]] = shared;
    if (end - start > 1) ties.push(end - start);
    start = end;
  }
  return { ranks, ties };
}

// Number of rank assignments giving each U = 0 .. m n, for samples of m and n distinct values.
function exactCounts(m, n) {
  // counts[i][j] is the distribution for sizes (i, j); built up row by row.
  let previous = [];
  for (let i = 0; i <= m; ++i) {
    const row = [];
    for (let j = 0; j <= n; ++j) {
      const size = i * j + 1;
      const counts = new Float64Array(size);
      if (i === 0 || j === 0) {
        counts[0] = 1;
      } else {
        const withoutX = previous[j];  // (i - 1, j): the largest value is x's, adding j
        const withoutY = row[j - 1];   // (i, j - 1): the largest value is y's
        for (let u = 0; u < size; ++u) {
          const a = u - j >= 0 && u - j < withoutX.length ? withoutX[u - j] : 0;
          const b = u < withoutY.length ? withoutY[u] : 0;
          counts[u] = a + b;
        }
      }
      row.push(counts);
    }
    previous = row;
  }
  return previous[n];
}

// erfc(x) for x >= 0: the continued fraction of the complementary error function,
//   erfc(x) = exp(-x^2) / sqrt(pi) * 1 / (x + (1/2) / (x + 1 / (x + (3/2) / (x + 2 / (x + ...))))),
// evaluated bottom-up, for x >= 2; below that the Maclaurin series of erf,
//   erf(x) = 2 / sqrt(pi) * sum_k (-1)^k x^(2k+1) / (k! (2k + 1)).
export function erfc(x) {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    let term = x;
    let sum = x;
    for (let k = 1; k < 100; ++k) {
      term *= (-x * x) / k;
      const next = term / (2 * k + 1);
      sum += next;
      if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  let fraction = x;
  for (let k = 60; k >= 1; --k) fraction = x + k / 2 / fraction;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / fraction;
}

// Returns {u, p, method} for samples x and y; p is null when either has fewer than
// kMinRepetitions values.
export function mannWhitneyU(x, y) {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 < kMinRepetitions || n2 < kMinRepetitions) return { u: null, p: null, method: 'none' };
  const { ranks, ties } = rank([...x, ...y]);
  let r1 = 0;
  for (let i = 0; i < n1; ++i) r1 += ranks[i];
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  if (ties.length === 0 && n1 <= kExactLimit && n2 <= kExactLimit) {
    const counts = exactCounts(n1, n2);
    let total = 0;
    for (const c of counts) total += c;
    let below = 0;  // P(U <= u1) * total
    let above = 0;  // P(U >= u1) * total
    for (let u = 0; u < counts.length; ++u) {
      if (u <= u1) below += counts[u];
      if (u >= u1) above += counts[u];
    }
    return { u: u1, p: Math.min(1, (2 * Math.min(below, above)) / total), method: 'exact' };
  }
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const tieSum = ties.reduce((s, t) => s + t * t * t - t, 0);
  const variance = ((n1 * n2) / 12) * (n + 1 - tieSum / (n * (n - 1)));
  if (variance <= 0) return { u: u1, p: 1, method: 'normal' };  // every value tied
  const z = Math.max(0, Math.abs(u1 - mean) - 0.5) / Math.sqrt(variance);
  return { u: u1, p: Math.min(1, erfc(z / Math.SQRT2)), method: 'normal' };
}
