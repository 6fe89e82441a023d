// SPDX-License-Identifier: MIT
// What the page shows, computed without a browser.
import assert from 'node:assert/strict';
import test from 'node:test';

import { buildModel, compareRuns } from '../lib/model.mjs';

function benchDoc(id, started, samplesByName) {
  const benchmarks = [];
  const ratios = [];
  for (const [name, samples] of Object.entries(samplesByName)) {
    samples.forEach((rate, i) => benchmarks.push({ name, run_name: name, run_type: 'iteration',
      repetition_index: i, items_per_second: rate }));
    benchmarks.push({ name: `${name}_mean`, run_name: name, run_type: 'aggregate',
      items_per_second: 1 });
    const [, scheme, mode] = name.split('/');
    ratios.push({ benchmark: name, scheme, operation: 'get_put', mode, threads: 1,
      items_per_second: samples[0], plain_items_per_second: samples[0], ratio_to_plain: 1,
      oversubscribed: false });
  }
  return { kind: 'bench', context: {}, benchmarks, ratios,
    targets: [{ name: 'split get/put uncontended', goal: '>= 0.97x plain', threshold: 0.97,
      measured: 0.99, met: true }],
    run: { id, started, git_revision: id, host: 'h', cpus: 2, compiler: 'c', flags: 'f',
      preset: 'release' } };
}

const slower = [90, 91, 92, 93, 94, 95, 96, 97, 98];
const baseline = [100, 101, 102, 103, 104, 105, 106, 107, 108];

test('a significant drop in throughput is a regression, a rise an improvement', () => {
  const before = benchDoc('a', '2026-01-01T00:00:00Z', {
    'BM_GetPut/split/uncontended': baseline, 'BM_GetPut/plain/uncontended': slower,
    'BM_GetPut/bias/uncontended': baseline });
  const after = benchDoc('b', '2026-01-02T00:00:00Z', {
    'BM_GetPut/split/uncontended': slower, 'BM_GetPut/plain/uncontended': baseline,
    'BM_GetPut/bias/uncontended': [...baseline].reverse() });
  const result = compareRuns(before, after);
  const verdicts = Object.fromEntries(result.rows.map((r) => [r.benchmark, r.verdict]));
  assert.deepEqual(verdicts, {
    'BM_GetPut/split/uncontended': 'regression',
    'BM_GetPut/plain/uncontended': 'improvement',
    'BM_GetPut/bias/uncontended': 'no significant change',
  });
  assert.equal(result.regressions, 1);
  assert.equal(result.rows[0].benchmark, 'BM_GetPut/split/uncontended');  // worst first
  assert.ok(Math.abs(result.rows[0].change - (94 - 104) / 104) < 1e-12);  // medians, not means
});

test('single repetitions are compared but not tested', () => {
  const result = compareRuns(benchDoc('a', 'x', { 'BM_GetPut/split/uncontended': [100] }),
                             benchDoc('b', 'y', { 'BM_GetPut/split/uncontended': [50] }));
  assert.equal(result.rows[0].verdict, 'untested');
  assert.equal(result.rows[0].p, null);
  assert.equal(result.regressions, 0);
});

test('runs are ordered by start time and compared one after another', () => {
  const late = { file: 'late.json', doc: benchDoc('late', '2026-03-01T00:00:00Z', {
    'BM_GetPut/split/uncontended': baseline }) };
  const early = { file: 'early.json', doc: benchDoc('early', '2026-01-01T00:00:00Z', {
    'BM_GetPut/split/uncontended': baseline }) };
  const middle = { file: 'middle.json', doc: benchDoc('middle', '2026-02-01T00:00:00Z', {
    'BM_GetPut/split/uncontended': baseline }) };
  const model = buildModel([late, early, middle]);
  assert.deepEqual(model.targets.runs, ['early', 'middle', 'late']);
  assert.deepEqual(model.changes.map((c) => [c.before, c.after]),
                   [['early', 'middle'], ['middle', 'late']]);
  assert.equal(model.throughput.run, 'late');
  assert.ok(model.history.chart, 'two or more runs chart their targets over time');
  assert.deepEqual(model.history.runs.map((r) => r.id), ['early', 'middle', 'late']);
});

test('throughput charts have one line per scheme over the thread counts', () => {
  const doc = benchDoc('a', 'x', {});
  doc.ratios = [1, 2, 3].flatMap((threads) => ['plain', 'split'].map((scheme) => ({
    benchmark: `BM_GetPut/${scheme}/contended/threads:${threads}`, scheme, operation: 'get_put',
    mode: 'contended', threads, items_per_second: threads * (scheme === 'plain' ? 10 : 9),
    plain_items_per_second: threads * 10, ratio_to_plain: scheme === 'plain' ? 1 : 0.9,
    oversubscribed: threads > 2 })));
  const model = buildModel([{ file: 'a.json', doc }]);
  const line = model.throughput.lines[0];
  assert.deepEqual(line.config.data.labels, ['1', '2', '3 (oversubscribed)']);
  assert.deepEqual(line.config.data.datasets.map((d) => [d.label, d.data]),
                   [['plain', [10, 20, 30]], ['split', [9, 18, 27]]]);
  // The main chart: contended ratios from 2 threads up to the CPUs, not oversubscribed ones.
  const bars = model.throughput.ratios[0];
  assert.deepEqual(bars.config.data.labels, ['get_put (contended)']);
  assert.deepEqual(bars.config.data.datasets.map((d) => [d.label, d.data]), [['split', [0.9]]]);
});
