// SPDX-License-Identifier: MIT
// The U test against values worked out by hand (see each comment) and its basic symmetries.
import assert from 'node:assert/strict';
import test from 'node:test';

import { erfc, mannWhitneyU, rank } from '../lib/mann_whitney.mjs';

test('ranks share the mean rank among ties', () => {
  // 1, 1 take ranks 1 and 2; the three 2s take 3, 4, 5; 3 takes 6.
  assert.deepEqual(rank([2, 1, 2, 3, 1, 2]), { ranks: [4, 1.5, 4, 6, 1.5, 4], ties: [2, 3] });
});

test('fully separated samples of 3 give the smallest exact p, 2/C(6,3) = 0.1', () => {
  const result = mannWhitneyU([1, 2, 3], [4, 5, 6]);
  assert.equal(result.method, 'exact');
  assert.equal(result.u, 0);
  assert.ok(Math.abs(result.p - 0.1) < 1e-12);
});

test('fully separated samples of 9 give p = 2/C(18,9)', () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const result = mannWhitneyU(x, x.map((v) => v + 9));
  assert.ok(Math.abs(result.p - 2 / 48620) < 1e-15);
  assert.ok(result.p < 0.05);
});

test('interleaved samples: U = 6 of 16, exact p = 2 * 24/70', () => {
  // For 4 against 4 the counts of U = 0..6 are 1, 1, 2, 3, 5, 5, 7: 24 of the 70 assignments.
  const result = mannWhitneyU([1, 3, 5, 7], [2, 4, 6, 8]);
  assert.equal(result.u, 6);
  assert.ok(Math.abs(result.p - 48 / 70) < 1e-12);
});

test('ties switch to the normal approximation with tie and continuity corrections', () => {
  // Ranks 1.5 1.5 4 4 | 4 6.5 6.5 8: R1 = 11, U1 = 1. Ties 2, 3, 2: sum(t^3 - t) = 36.
  // var = 16/12 * (9 - 36/56) = 11.142857; z = (7 - 0.5)/sqrt(var) = 1.947220;
  // p = erfc(z / sqrt 2) = 0.051508.
  const result = mannWhitneyU([1, 1, 2, 2], [2, 3, 3, 4]);
  assert.equal(result.method, 'normal');
  assert.equal(result.u, 1);
  assert.ok(Math.abs(result.p - 0.051508) < 1e-5, `p = ${result.p}`);
});

test('the test is symmetric in its samples', () => {
  const x = [10.1, 10.4, 9.8, 10.0, 10.2];
  const y = [11.0, 10.9, 10.3, 11.4, 10.8, 11.1];
  assert.ok(Math.abs(mannWhitneyU(x, y).p - mannWhitneyU(y, x).p) < 1e-12);
});

test('identical samples are not significant; too few repetitions give no test', () => {
  assert.equal(mannWhitneyU([5, 5, 5], [5, 5, 5]).p, 1);
  assert.deepEqual(mannWhitneyU([1], [2, 3]), { u: null, p: null, method: 'none' });
});

test('large samples use the normal approximation and find a clear shift', () => {
  const x = Array.from({ length: 60 }, (_, i) => i);
  const result = mannWhitneyU(x, x.map((v) => v + 30));
  assert.equal(result.method, 'normal');
  assert.ok(result.p < 1e-4, `p = ${result.p}`);
});

test('erfc matches tabulated values', () => {
  for (const [x, want] of [[0, 1], [0.5, 0.4795001221869535], [1, 0.15729920705028513],
    [2, 0.004677734981047266], [3, 2.209049699858544e-5], [-1, 1.8427007929497148]]) {
    assert.ok(Math.abs(erfc(x) - want) < 1e-12 * Math.max(1, want) + 1e-16, `erfc(${x})`);
  }
});
