// SPDX-License-Identifier: MIT
// What the verdict board, the scenario map, the history and the budget and fidelity sections are
// computed from, without a browser.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

import { buildModel, cellVerdict } from '../lib/model.mjs';
import { renderPage } from '../lib/page.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name) => ({ file: name,
  doc: JSON.parse(fs.readFileSync(path.join(here, 'fixtures', name), 'utf8')) });

function run(id, started) {
  return { id, started, git_revision: id, host: 'h', cpus: 2, compiler: 'c', flags: 'f',
    preset: 'release' };
}

function benchWithTarget(id, started, byRepetition) {
  const sorted = [...byRepetition].sort((a, b) => a - b);
  return { file: `${id}.json`, doc: { kind: 'bench', run: run(id, started), context: {},
    benchmarks: [], ratios: [],
    targets: [{ name: 'split get/put contended', goal: '>= 0.97x plain', threshold: 0.97,
      measured: sorted[Math.floor(sorted.length / 2)], met: true, by_repetition: byRepetition }] } };
}

test('a policy cell is a violation, copies beyond ideal or clean, worst first', () => {
  assert.equal(cellVerdict({ violations: 1, copies_beyond_ideal: 3 }), 'violation');
  assert.equal(cellVerdict({ violations: 0, copies_beyond_ideal: 1 }), 'copies');
  assert.equal(cellVerdict({ violations: 0, copies_beyond_ideal: 0 }), 'clean');
  assert.equal(cellVerdict({ violations: 0, copies_beyond_ideal: -1 }), 'clean');
});

test('the scenario map has one cell per scenario x policy, from each scenario\'s latest run', () => {
  const old = fixture('compare.json');
  const newer = structuredClone(old);
  newer.file = 'newer.json';
  newer.doc.run.started = '2026-11-26T00:00:00Z';
  newer.doc.policies[0].violations = 0;  // mapcount fixed in the newer run
  const model = buildModel([newer, old, fixture('compare-longterm.json')]);
  const map = model.scenario_map;
  assert.deepEqual(map.scenarios, ['scenarios/mm/longterm_read_pin_after_fork.ops',
    'scenarios/mm/vmsplice_leak.ops']);
  assert.deepEqual(map.policies, ['mapcount', 'bias', 'split', 'refcount', 'anon-exclusive', 'ideal']);
  for (const row of map.rows) assert.equal(row.cells.length, map.policies.length);
  const cell = (scenario, policy) => map.rows.find((r) => r.scenario.endsWith(scenario))
      .cells.find((c) => c.policy === policy);
  assert.equal(cell('vmsplice_leak.ops', 'mapcount').verdict, 'clean', 'the newer run wins');
  assert.equal(cell('vmsplice_leak.ops', 'bias').verdict, 'copies');
  assert.equal(cell('vmsplice_leak.ops', 'ideal').verdict, 'absent');
  assert.equal(cell('longterm_read_pin_after_fork.ops', 'mapcount').verdict, 'violation');
  assert.equal(cell('longterm_read_pin_after_fork.ops', 'refcount').copies_beyond_ideal, 2);
  const mapcount = map.by_policy.find((p) => p.policy === 'mapcount');
  assert.deepEqual([mapcount.scenarios, mapcount.violated, mapcount.clean], [2, 1, 1]);
});

test('fuzz health: the latest row per target, expected and unexpected crashes, must-crash misses', () => {
  const older = fixture('fuzz.json');
  const newer = structuredClone(older);
  newer.doc.run.started = '2026-11-26T00:00:00Z';
  newer.doc.targets = [{ ...older.doc.targets[0], crashes: [{ file: 'crash-1', decoded: 'x' }],
    executions: 5 }, { ...older.doc.targets[3], crashes: [], from_seeds: true }];
  const fuzz = buildModel([older, newer]).fuzz;
  const byLabel = Object.fromEntries(fuzz.targets.map((t) => [t.label, t]));
  assert.equal(fuzz.targets.length, 5, 'a run from no seeds is its own row');
  assert.equal(byLabel['mm_ops/refcount (no seeds)'].crashes_expected, 1);
  const slow = structuredClone(older);
  slow.doc.targets[3].crashes = [];
  assert.equal(buildModel([slow]).fuzz.targets[3].missed_expected, false,
    'from no seeds, nothing within the budget is a slow search, not a miss');
  assert.equal(byLabel.refcount_ops.executions, 5, 'the newer run of refcount_ops');
  assert.equal(byLabel.refcount_ops.crashes_unexpected, 1);
  assert.equal(byLabel['mm_ops/mapcount'].crashes_expected, 1);
  assert.equal(byLabel['mm_ops/mapcount'].time_to_first_crash_seconds, 0.8);
  assert.equal(byLabel['mm_ops/refcount'].missed_expected, true, 'a must-crash target that found nothing');
  const html = renderPage(buildModel([older, newer]), ['a', 'b']);
  assert.match(html, /data-tile="fuzz"[\s\S]*?1 unexpected crash/);
});

test('fuzz health: under a policy that may crash, a crash of a new kind is unexpected', () => {
  const run = fixture('fuzz.json');
  const mapcount = run.doc.targets.find((t) => t.policy === 'mapcount' && t.from_seeds !== false);
  mapcount.crashes = [{ file: 'crash-a', decoded: 'x', expected: true },
    { file: 'crash-b', decoded: 'y', expected: false }];
  const row = buildModel([run]).fuzz.targets.find((t) => t.label === 'mm_ops/mapcount');
  assert.equal(row.crashes_expected, 1);
  assert.equal(row.crashes_unexpected, 1);
  assert.match(renderPage(buildModel([run]), ['a']), /1 unexpected crash/);
});

test('storm health sums operations, violations and sanitizer reports; unrecorded reports are said', () => {
  const stress = fixture('stress.json');
  let model = buildModel([stress]).stress;
  assert.equal(model.operations, 1234567 + 1300000 + 40000);
  assert.equal(model.violations, 3);
  assert.equal(model.sanitizer_reports, 2);
  const old = structuredClone(stress);
  for (const s of old.doc.storms) delete s.sanitizer_reports;
  model = buildModel([old]).stress;
  assert.equal(model.sanitizer_reports, null);
  assert.equal(model.sanitizer_unrecorded, 3);
  assert.match(renderPage(buildModel([old]), ['x']), /sanitizer reports not recorded/);
});

test('the budget heat map holds log10 of the larger refusal; zero stays zero', () => {
  const budget = buildModel([fixture('budget.json')]).budget;
  const rdma = budget.rows.find((r) => r.name === 'rdma_multi_hca');
  const seed = rdma.cells.find((c) => c.layout === '4/4/24');
  assert.equal(seed.refusal, 0.3);
  assert.ok(Math.abs(seed.log10 - Math.log10(0.3)) < 1e-12);
  const bias = rdma.cells.find((c) => c.layout === 'bias');
  assert.equal(bias.log10, null);
  assert.equal(budget.log10_target, -6);
  assert.deepEqual(budget.pareto, ['8/8/16', 'bias']);
  const html = renderPage(buildModel([fixture('budget.json')]), ['b']);
  assert.match(html, /seed 4\/4\/24: does NOT meet/);
  assert.match(html, /fails: rdma_multi_hca, vfio_passthrough/);
  assert.match(html, /<table id="attack-table">[\s\S]*A2[\s\S]*refuse at 3\/4/);
});

test('a budget over hundreds of layouts shows the headline ones and folds the rest', () => {
  const many = fixture('budget.json');
  for (let i = 0; i < 300; ++i) many.doc.layouts.push(`${i}/0/0`);
  const budget = buildModel([many]).budget;
  assert.ok(budget.headline.includes('4/4/24') && budget.headline.includes('bias'));
  assert.ok(!budget.headline.includes('7/0/0'));
  const html = renderPage(buildModel([many]), ['b']);
  const headline = html.slice(html.indexOf('id="budget-heat"'), html.indexOf('id="budget-heat-all"'));
  assert.ok(!headline.includes('>7/0/0<'), 'folded layouts stay out of the headline table');
  assert.match(html, /<details><summary>Every layout \(\d+\)<\/summary>[\s\S]*>7\/0\/0</);
});

test('fidelity: agreeing over compared scenarios, each disagreement with its step', () => {
  const fidelity = buildModel([fixture('fidelity.json')]).fidelity;
  assert.equal(fidelity.disagreements.length, 1);
  assert.equal(fidelity.disagreements[0].first_difference.line, 7);
  const html = renderPage(buildModel([fixture('fidelity.json')]), ['f']);
  assert.match(html, /data-tile="fidelity"[\s\S]*?2 \/ 3 agree/);
  assert.match(html, /line 7: B write 0 2/);
  const skipped = fixture('fidelity.json');
  skipped.doc.skipped = 'no FUSE in this container';
  assert.match(renderPage(buildModel([skipped]), ['f']), /data-tile="fidelity"[\s\S]*?skipped[\s\S]*?no FUSE/);
  // pinsplit fidelity writes "agree": false beside a skip reason: a skip is not a disagreement.
  const unrunnable = fixture('fidelity.json');
  unrunnable.doc.scenarios.push({ scenario: 'random:7', agree: false, skipped: 'read-only page',
    stand_ins: [], first_difference: null });
  assert.equal(buildModel([unrunnable]).fidelity.disagreements.length, 1);
});

test('absent inputs give tiles that say "no result"', () => {
  const html = renderPage(buildModel([fixture('fuzz.json')]), ['f']);
  for (const tile of ['targets', 'safety', 'stress', 'budget', 'fidelity']) {
    assert.match(html, new RegExp(`data-tile="${tile}"[^>]*>\\s*<span class="tile-title">[^<]*</span>\\s*<span class="tile-value">no result<`), tile);
  }
  // No bench result, but a fuzz run: the harness tile states the fuzz speed goals it can judge.
  // This file has only libFuzzer's per-worker figure, which cannot meet a whole-machine goal.
  assert.match(html, /data-tile="harness"[\s\S]*?0 \/ 1 fuzz speed goals met[\s\S]*?mm_ops\/split: 4\.12k\/s of 20\.00k\/s \(per worker\)/);
  const none = renderPage(buildModel([fixture('compare.json')]), ['c']);
  assert.match(none, /data-tile="harness"[^>]*>\s*<span class="tile-title">[^<]*<\/span>\s*<span class="tile-value">no result</);
});

test('fuzz speed goals: all workers together, the slowest policy that must not crash', () => {
  const input = fixture('fuzz.json');
  input.doc.targets = input.doc.targets.map((t) => ({ ...t, workers: 2,
    execs_per_second_total: t.policy === 'split' ? 21000 : 5000 }));
  input.doc.targets.push({ ...input.doc.targets[1], policy: 'ideal', execs_per_second_total: 22000 });
  input.doc.targets.push({ ...input.doc.targets[1], target: 'interleave', policy: null,
    execs_per_second_total: 19000 });
  const model = buildModel([input]);
  const goals = Object.fromEntries(model.fuzz.speed_goals.map((g) => [g.target, g]));
  assert.equal(goals.mm_ops.rate, 21000, 'split, not the must-crash rows, is the slowest');
  assert.equal(goals.mm_ops.met, true);
  assert.equal(goals.interleave.met, false);
  const html = renderPage(model, ['f']);
  assert.match(html, /1 \/ 2 fuzz speed goals met/);
  assert.match(html, /interleave: 19\.00k\/s of 20\.00k\/s \(2 workers\)/);
});

test('history: each target over the runs, the latest change U-tested on its repetitions', () => {
  const base = [1.00, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06, 1.07, 1.08];
  const lower = base.map((v) => v - 0.2);
  let history = buildModel([benchWithTarget('a', '2026-01-01', base),
    benchWithTarget('b', '2026-01-02', base), benchWithTarget('c', '2026-01-03', lower)]).history;
  assert.deepEqual(history.runs.map((r) => r.revision), ['a', 'b', 'c']);
  assert.deepEqual(history.rows[0].measured, [1.04, 1.04, 1.04 - 0.2]);
  assert.equal(history.rows[0].latest.verdict, 'regression');
  assert.ok(history.rows[0].latest.p < 0.05);
  history = buildModel([benchWithTarget('a', '2026-01-01', []),
    benchWithTarget('b', '2026-01-02', [])]).history;
  assert.equal(history.rows[0].latest.verdict, 'untested', 'no repetitions, no test');
});

test('a target\'s spread is the range of its per-repetition values', () => {
  const model = buildModel([benchWithTarget('a', '2026-01-01', [0.9, 1.2, 1.0])]);
  assert.deepEqual(model.targets.latest[0].spread, { min: 0.9, max: 1.2, repetitions: 3 });
  assert.equal(buildModel([benchWithTarget('a', 'x', [1])]).targets.latest[0].spread, null);
});

test('harness benchmarks are kept apart; single-thread groups are bars with repetition spread', () => {
  const doc = { kind: 'bench', run: run('a', 'x'), context: {}, targets: [], benchmarks: [], ratios: [] };
  const add = (name, scheme, operation, mode, threads, samples, plain) => {
    samples.forEach((v) => doc.benchmarks.push({ name, run_name: name, run_type: 'iteration',
      items_per_second: v }));
    doc.ratios.push({ benchmark: name, scheme, operation, mode, threads,
      items_per_second: samples[0], plain_items_per_second: plain, ratio_to_plain: plain ? samples[0] / plain : null,
      oversubscribed: false });
  };
  add('BM_ForkPerPage/plain/uncontended/threads:1', 'plain', 'fork_per_page', 'uncontended', 1, [100, 100], 100);
  add('BM_ForkPerPage/split/uncontended/threads:1', 'split', 'fork_per_page', 'uncontended', 1, [80, 120], 100);
  add('BM_Harness/interleave/exhaustive', 'interleave', 'harness', 'exhaustive', 1, [5000, 6000], null);
  add('BM_GetPut/plain/contended/threads:2', 'plain', 'get_put', 'contended', 2, [10], 10);
  add('BM_GetPut/split/contended/threads:2', 'split', 'get_put', 'contended', 2, [9], 10);
  add('BM_GetPut/bias/contended/threads:2', 'bias', 'get_put', 'contended', 2, [8], 10);
  add('BM_GetPut/raw_fetch_add/contended/threads:2', 'raw_fetch_add', 'get_put', 'contended', 2, [9], 10);
  const model = buildModel([{ file: 'a.json', doc }]);
  // Operations on other scheme sets get their own ratio chart; raw pairs are left out.
  assert.deepEqual(model.throughput.ratios.map((c) => c.config.data.datasets.map((d) => d.label)),
                   [['split'], ['split', 'bias']]);
  assert.deepEqual(model.throughput.ratios[1].config.data.datasets[1].data, [0.8]);
  assert.deepEqual(model.harness_speed.map((h) => [h.engine, h.items_per_second]), [['interleave', 5500]]);
  const html = renderPage(model, ['a.json']);
  assert.match(html, /data-tile="harness"[\s\S]*?1 engine benchmark\(s\)[\s\S]*?interleave\/exhaustive: 5\.50k\/s/);
  assert.match(html, /<section id="harness-speed">[\s\S]*BM_Harness\/interleave\/exhaustive/);
  assert.deepEqual(model.throughput.lines, [], 'each group ran at one thread count: no line chart');
  assert.equal(model.throughput.bars.length, 2, 'fork_per_page and get_put contended (one count)');
  assert.equal(model.throughput.bars[0].config.type, 'bar');
  assert.deepEqual(model.throughput.bars[0].config.data.labels, ['plain', 'split']);
  const ratio = model.throughput.ratios[0];
  assert.deepEqual(ratio.config.data.labels, ['fork_per_page (uncontended)']);
  assert.deepEqual(ratio.config.data.datasets[0].spread, [[0.8, 1.2]]);
});
