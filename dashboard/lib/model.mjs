// Builds what the page shows from checked result files: every number and every chart's data
// is computed here, in Node, so the page itself only lays them out (and the tests can check the
// computations without a browser).
//
// Charts are Chart.js configurations made of plain data (no functions), so they survive
// JSON.stringify into the page; `format` on a chart tells the page how to label its values.
import { kMinRepetitions, mannWhitneyU } from './mann_whitney.mjs';

// A change is significant when the U test's two-sided p is below this (compare.py's alpha).
export const kAlpha = 0.05;

const kPalette = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1',
  '#ff9da7', '#9c755f', '#bab0ac'];

function colour(i) {
  return kPalette[i % kPalette.length];
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// Oldest first; files with the same start time keep the order they were given in.
function byStarted(a, b) {
  return a.doc.run.started.localeCompare(b.doc.run.started);
}

// Repetitions of every benchmark in a bench file: run_name -> [items_per_second, ...].
export function repetitions(doc) {
  const samples = new Map();
  for (const b of doc.benchmarks) {
    if ((b.run_type ?? 'iteration') !== 'iteration' || b.error_occurred) continue;
    if (typeof b.items_per_second !== 'number') continue;
    const name = b.run_name ?? b.name;
    if (!samples.has(name)) samples.set(name, []);
    samples.get(name).push(b.items_per_second);
  }
  return samples;
}

// Per-benchmark change from `before` to `after` (two bench documents): throughput medians,
// the relative change, the U test on the repetitions, and a verdict.
export function compareRuns(before, after) {
  const old = repetitions(before);
  const now = repetitions(after);
  const rows = [];
  for (const [name, newSamples] of now) {
    const oldSamples = old.get(name);
    if (!oldSamples) continue;
    const oldMedian = median(oldSamples);
    const newMedian = median(newSamples);
    const change = (newMedian - oldMedian) / oldMedian;
    const test = mannWhitneyU(oldSamples, newSamples);
    let verdict;
    if (test.p === null) {
      verdict = 'untested';
    } else if (test.p < kAlpha) {
      verdict = change < 0 ? 'regression' : 'improvement';
    } else {
      verdict = 'no significant change';
    }
    rows.push({
      benchmark: name, old_median: oldMedian, new_median: newMedian, change,
      old_repetitions: oldSamples.length, new_repetitions: newSamples.length, p: test.p,
      u: test.u, method: test.method, verdict,
    });
  }
  // Worst first: regressions, then the largest drops.
  const rankOf = { regression: 0, improvement: 2 };
  rows.sort((a, b) => (rankOf[a.verdict] ?? 1) - (rankOf[b.verdict] ?? 1) || a.change - b.change);
  return {
    before: before.run.id, after: after.run.id, rows,
    regressions: rows.filter((r) => r.verdict === 'regression').length,
    improvements: rows.filter((r) => r.verdict === 'improvement').length,
    untested: rows.filter((r) => r.verdict === 'untested').length,
    min_repetitions: kMinRepetitions, alpha: kAlpha,
  };
}

function threadLabel(threads, cpus) {
  return threads > cpus ? `${threads} (oversubscribed)` : String(threads);
}

// One line chart per (operation, mode): throughput against threads, one line per scheme.
function throughputCharts(doc) {
  const groups = new Map();
  for (const r of doc.ratios) {
    const key = `${r.operation} / ${r.mode ?? '-'}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  const charts = [];
  for (const [key, rows] of groups) {
    const threads = [...new Set(rows.map((r) => r.threads))].sort((a, b) => a - b);
    const schemes = [...new Set(rows.map((r) => r.scheme ?? '-'))];
    charts.push({
      title: `${key}: throughput against threads`,
      format: 'rate',
      config: {
        type: 'line',
        data: {
          labels: threads.map((t) => threadLabel(t, doc.run.cpus)),
          datasets: schemes.map((scheme, i) => ({
            label: scheme,
            data: threads.map((t) => rows.find((r) => (r.scheme ?? '-') === scheme &&
                                                      r.threads === t)?.items_per_second ?? null),
            borderColor: colour(i), backgroundColor: colour(i), spanGaps: true,
          })),
        },
        options: {
          scales: {
            x: { title: { display: true, text: 'threads' } },
            y: { beginAtZero: true, title: { display: true, text: 'operations per second' } },
          },
        },
      },
    });
  }
  return charts;
}

// One bar chart per mode: ratio to plain per operation and scheme, at the thread counts that
// fit the CPUs (the geometric mean over them).
function ratioCharts(doc) {
  const charts = [];
  const modes = [...new Set(doc.ratios.map((r) => r.mode ?? '-'))];
  for (const mode of modes) {
    const rows = doc.ratios.filter((r) => (r.mode ?? '-') === mode && !r.oversubscribed &&
                                          r.ratio_to_plain !== null && r.scheme !== 'plain');
    if (rows.length === 0) continue;
    const operations = [...new Set(rows.map((r) => r.operation))];
    const schemes = [...new Set(rows.map((r) => r.scheme ?? '-'))];
    const geomean = (values) =>
      values.length ? Math.exp(values.reduce((s, v) => s + Math.log(v), 0) / values.length) : null;
    charts.push({
      title: `${mode}: ratio to plain (1.0 = as fast as a plain atomic)`,
      format: 'ratio',
      config: {
        type: 'bar',
        data: {
          labels: operations,
          datasets: schemes.map((scheme, i) => ({
            label: scheme,
            data: operations.map((op) => geomean(
                rows.filter((r) => r.operation === op && (r.scheme ?? '-') === scheme)
                    .map((r) => r.ratio_to_plain))),
            backgroundColor: colour(i + 1),
          })),
        },
        options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'x plain' } } } },
      },
    });
  }
  return charts;
}

function targetsOverRuns(benchRuns) {
  const names = [...new Set(benchRuns.flatMap((r) => r.doc.targets.map((t) => t.name)))];
  return {
    title: 'Targets over runs (measured ratio)',
    format: 'ratio',
    config: {
      type: 'line',
      data: {
        labels: benchRuns.map((r) => r.doc.run.id),
        datasets: names.map((name, i) => ({
          label: name,
          data: benchRuns.map((r) => r.doc.targets.find((t) => t.name === name)?.measured ?? null),
          borderColor: colour(i), backgroundColor: colour(i), spanGaps: true,
        })),
      },
      options: { scales: { y: { beginAtZero: true } } },
    },
  };
}

const kPolicyMeasures = ['violations', 'copies_at_fork', 'copies_at_fault', 'unshares',
  'copies_beyond_ideal', 'pins_refused', 'false_maybe_pinned'];

function compareSection({ file, doc }) {
  return {
    file, run: doc.run.id, scenario: doc.scenario, policies: doc.policies,
    measures: kPolicyMeasures,
    chart: {
      title: `${doc.scenario}: violations and copies per policy`,
      format: 'count',
      config: {
        type: 'bar',
        data: {
          labels: doc.policies.map((p) => p.policy),
          datasets: kPolicyMeasures.map((m, i) => ({
            label: m, data: doc.policies.map((p) => p[m]), backgroundColor: colour(i),
          })),
        },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      },
    },
  };
}

function fuzzSection({ file, doc }) {
  return {
    file, run: doc.run.id, targets: doc.targets,
    chart: {
      title: `fuzzing (${doc.run.id}): executions per second`,
      format: 'rate',
      config: {
        type: 'bar',
        data: {
          labels: doc.targets.map((t) => `${t.target}${t.policy ? ' / ' + t.policy : ''}`),
          datasets: [{ label: 'executions per second', data: doc.targets.map((t) => t.execs_per_second),
            backgroundColor: colour(0) }],
        },
        options: { scales: { y: { beginAtZero: true } } },
      },
    },
  };
}

function stressSection({ file, doc }) {
  const label = (s) => [s.storm, s.scheme, s.policy, `${s.threads} threads`].filter(Boolean)
      .join(' / ');
  return {
    file, run: doc.run.id, storms: doc.storms,
    chart: {
      title: `storms (${doc.run.id}): operations per second`,
      format: 'rate',
      config: {
        type: 'bar',
        data: {
          labels: doc.storms.map(label),
          datasets: [{ label: 'operations per second', data: doc.storms.map((s) => s.ops_per_second),
            backgroundColor: doc.storms.map((s) => (s.violations > 0 ? '#e15759' : colour(3))) }],
        },
        options: { scales: { y: { beginAtZero: true } } },
      },
    },
  };
}

// The whole page's content from [{file, doc}].
export function buildModel(results, generated = new Date()) {
  const ofKind = (kind) => results.filter((r) => r.doc.kind === kind).sort(byStarted);
  const benchRuns = ofKind('bench');
  const latest = benchRuns.at(-1);
  const changes = [];
  for (let i = 1; i < benchRuns.length; ++i) {
    changes.push({ ...compareRuns(benchRuns[i - 1].doc, benchRuns[i].doc),
      before_file: benchRuns[i - 1].file, after_file: benchRuns[i].file });
  }
  return {
    generated: generated.toISOString(),
    runs: results.map(({ file, doc }) => ({ file, kind: doc.kind, ...doc.run })),
    targets: {
      runs: benchRuns.map((r) => r.doc.run.id),
      rows: [...new Set(benchRuns.flatMap((r) => r.doc.targets.map((t) => t.name)))].map(
          (name) => {
            const first = benchRuns.map((r) => r.doc.targets.find((t) => t.name === name))
                .find(Boolean);
            return {
              name, goal: first.goal,
              by_run: benchRuns.map((r) => r.doc.targets.find((t) => t.name === name) ?? null),
            };
          }),
      chart: benchRuns.length >= 2 ? targetsOverRuns(benchRuns) : null,
    },
    throughput: latest ? {
      run: latest.doc.run.id, cpus: latest.doc.run.cpus,
      charts: [...ratioCharts(latest.doc), ...throughputCharts(latest.doc)],
    } : null,
    changes,
    compare: ofKind('compare').map(compareSection),
    fuzz: ofKind('fuzz').map(fuzzSection),
    stress: ofKind('stress').map(stressSection),
  };
}
