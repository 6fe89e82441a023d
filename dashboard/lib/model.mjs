// SPDX-License-Identifier: MIT
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

function geomean(values) {
  return values.length ? Math.exp(values.reduce((s, v) => s + Math.log(v), 0) / values.length) :
    null;
}

// Benchmarks of the harness itself (BM_Harness/<engine>/...) are not counters: kept apart.
function isHarnessBenchmark(name) {
  return name.startsWith('BM_Harness/');
}

// Contended ratios are taken from 2 threads on (one thread is not contention), as report.py does.
function countsForRatio(r, cpus) {
  return !r.oversubscribed && r.ratio_to_plain !== null &&
    !(r.mode === 'contended' && r.threads < 2 && cpus >= 2);
}

// The main performance charts: ratio to plain per operation (and mode), one bar per scheme, the
// geometric mean over the thread counts that fit the CPUs; with repetitions, `spread` holds the
// lowest and highest of the same mean taken from each repetition alone (client.js draws it as a
// whisker). Operations measured on the same set of schemes share a chart (the counters, the mm
// policies), so no chart is mostly empty slots. The raw_* pairs are the hardware reference of the
// contended target, shown with that target, not here.
function ratioCharts(doc) {
  const samples = repetitions(doc);
  const rows = doc.ratios.filter((r) => countsForRatio(r, doc.run.cpus) && r.scheme !== 'plain' &&
                                        !(r.scheme ?? '').startsWith('raw_') &&
                                        !isHarnessBenchmark(r.benchmark));
  const labelOf = (r) => `${r.operation} (${r.mode ?? '-'})`;
  const schemesOf = new Map();
  for (const r of rows) {
    if (!schemesOf.has(labelOf(r))) schemesOf.set(labelOf(r), new Set());
    schemesOf.get(labelOf(r)).add(r.scheme ?? '-');
  }
  const groups = new Map();  // scheme set -> labels
  for (const [label, schemes] of schemesOf) {
    const key = [...schemes].join(',');
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(label);
  }
  return [...groups.entries()].map(([key, labels]) => {
    const schemes = key.split(',');
    let anySpread = false;
    const datasets = schemes.map((scheme, i) => {
      const data = [];
      const spread = [];
      for (const label of labels) {
        const group = rows.filter((r) => labelOf(r) === label && (r.scheme ?? '-') === scheme);
        data.push(geomean(group.map((r) => r.ratio_to_plain)));
        // Per repetition k: the geometric mean over the group of (k-th sample / plain's k-th).
        const perRep = group.map((r) => {
          const own = samples.get(r.benchmark) ?? [];
          const plainName = r.benchmark.split('/').map((part, j) => (j === 1 ? 'plain' : part))
              .join('/');
          const plain = samples.get(plainName) ?? [];
          return own.slice(0, plain.length).map((v, k) => v / plain[k]);
        });
        const count = Math.min(...perRep.map((p) => p.length));
        if (group.length && count >= 2) {
          const values = [...Array(count).keys()].map((k) => geomean(perRep.map((p) => p[k])));
          spread.push([Math.min(...values), Math.max(...values)]);
          anySpread = true;
        } else {
          spread.push(null);
        }
      }
      return { label: scheme, data, spread, backgroundColor: colour(i + 1) };
    });
    return {
      title: `Ratio to plain by operation: ${schemes.join(', ')} (1.0 = as fast as plain${
        anySpread ? '; whiskers: lowest and highest repetition' : ''})`,
      format: 'ratio',
      tall: labels.length > 4,
      config: {
        type: 'bar',
        data: { labels, datasets },
        options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'x plain' } } } },
      },
    };
  });
}

// Throughput against threads, one line chart per operation (and mode), one line per scheme;
// groups measured at one thread count only (the mm single-thread costs) are bar charts instead.
function throughputCharts(doc) {
  const groups = new Map();
  for (const r of doc.ratios) {
    if (isHarnessBenchmark(r.benchmark)) continue;
    const key = `${r.operation} / ${r.mode ?? '-'}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  const lines = [];
  const bars = [];
  for (const [key, rows] of groups) {
    const threads = [...new Set(rows.map((r) => r.threads))].sort((a, b) => a - b);
    const schemes = [...new Set(rows.map((r) => r.scheme ?? '-'))];
    if (threads.length === 1) {
      bars.push({
        title: `${key}: operations per second, ${threads[0]} thread(s)`,
        format: 'rate',
        config: {
          type: 'bar',
          data: {
            labels: schemes,
            datasets: [{ label: 'operations per second',
              data: schemes.map((s) => rows.find((r) => (r.scheme ?? '-') === s).items_per_second),
              backgroundColor: schemes.map((_, i) => colour(i)) }],
          },
          options: { plugins: { legend: { display: false } },
            scales: { y: { beginAtZero: true } } },
        },
      });
      continue;
    }
    lines.push({
      title: `${key}: throughput against threads`,
      operation: key,
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
  return { lines, bars };
}

// BM_Harness/<engine>/...: how fast the checkers themselves run (schedules or executions/s).
function harnessSpeed(doc) {
  const samples = repetitions(doc);
  return [...samples.entries()].filter(([name]) => isHarnessBenchmark(name))
      .map(([name, values]) => ({ benchmark: name, engine: name.split('/')[1] ?? '-',
        items_per_second: median(values), repetitions: values.length }));
}

// A target's spread over repetitions, from report.py's by_repetition (absent in older files).
function targetSpread(target) {
  const values = target?.by_repetition ?? [];
  if (values.length < 2) return null;
  return { min: Math.min(...values), max: Math.max(...values), repetitions: values.length };
}

// Each target's measured ratio over the bench runs, and the U test of the latest change on the
// target's per-repetition values.
function history(benchRuns) {
  const names = [...new Set(benchRuns.flatMap((r) => r.doc.targets.map((t) => t.name)))];
  const labels = benchRuns.map((r) => `${r.doc.run.git_revision} ${r.doc.run.started.slice(5, 16)}`);
  const rows = names.map((name) => {
    const series = benchRuns.map((r) => r.doc.targets.find((t) => t.name === name) ?? null);
    const present = series.filter((t) => t && t.measured !== null);
    let latest = null;
    if (present.length >= 2) {
      const [before, after] = present.slice(-2);
      const test = mannWhitneyU(before.by_repetition ?? [], after.by_repetition ?? []);
      const change = (after.measured - before.measured) / before.measured;
      let verdict;
      if (test.p === null) verdict = 'untested';
      else if (test.p < kAlpha) verdict = change < 0 ? 'regression' : 'improvement';
      else verdict = 'no significant change';
      latest = { before: before.measured, after: after.measured, change, p: test.p,
        method: test.method, verdict,
        repetitions: [before.by_repetition?.length ?? 0, after.by_repetition?.length ?? 0] };
    }
    return { name, measured: series.map((t) => t?.measured ?? null), latest };
  });
  return {
    runs: benchRuns.map((r) => ({ id: r.doc.run.id, revision: r.doc.run.git_revision,
      started: r.doc.run.started, file: r.file })),
    rows,
    chart: benchRuns.length >= 2 ? {
      title: 'Targets over revisions (measured ratio)',
      format: 'ratio',
      tall: true,
      config: {
        type: 'line',
        data: {
          labels,
          datasets: rows.map((row, i) => ({
            label: row.name, data: row.measured, borderColor: colour(i), backgroundColor: colour(i),
            spanGaps: true,
          })),
        },
        options: { scales: { y: { beginAtZero: true } } },
      },
    } : null,
  };
}

const kPolicyMeasures = ['violations', 'copies_at_fork', 'copies_at_fault', 'unshares',
  'copies_beyond_ideal', 'pins_refused', 'false_maybe_pinned'];

// The verdict of one policy on one scenario, worst first.
export function cellVerdict(p) {
  if (p.violations > 0) return 'violation';
  if (p.copies_beyond_ideal > 0) return 'copies';
  return 'clean';
}

// Scenario x policy: rows scenarios, columns policies, from the latest result of each scenario.
function scenarioMap(compares) {
  const latest = new Map();
  for (const c of compares) latest.set(c.doc.scenario, c);  // compares are oldest first
  const scenarios = [...latest.keys()].sort();
  const policies = [...new Set([...latest.values()].flatMap((c) => c.doc.policies.map((p) => p.policy)))];
  const rows = scenarios.map((scenario) => {
    const { file, doc } = latest.get(scenario);
    return {
      scenario, file, run: doc.run.id,
      cells: policies.map((policy) => {
        const p = doc.policies.find((q) => q.policy === policy);
        return p ? { policy, verdict: cellVerdict(p), ...Object.fromEntries(
            kPolicyMeasures.map((m) => [m, p[m]])), first_violation: p.first_violation } :
          { policy, verdict: 'absent' };
      }),
      policies: doc.policies,
    };
  });
  const byPolicy = policies.map((policy, i) => {
    const cells = rows.map((r) => r.cells[i]).filter((c) => c.verdict !== 'absent');
    return { policy, scenarios: cells.length,
      violated: cells.filter((c) => c.verdict === 'violation').length,
      extra_copies: cells.filter((c) => c.verdict === 'copies').length,
      clean: cells.filter((c) => c.verdict === 'clean').length };
  });
  return { scenarios, policies, rows, by_policy: byPolicy, measures: kPolicyMeasures };
}

// The latest row per key over documents oldest first.
function latestRows(docs, list, keyOf) {
  const rows = new Map();
  for (const { file, doc } of docs) {
    for (const row of doc[list]) rows.set(keyOf(row), { ...row, file, run: doc.run.id });
  }
  return [...rows.values()];
}

// The harness's speed goal (issue 12): these targets, under libFuzzer with ASan, all workers of
// one machine together.
const kFuzzSpeedGoal = 20000;
const kFuzzSpeedTargets = ['interleave', 'mm_ops'];

function fuzzModel(fuzzRuns) {
  // A must-crash target runs twice, from its seeds and from no seeds (how fast the search finds
  // the known bug); the two are different rows.
  const noSeeds = (t) => t.from_seeds === false;
  // Whether one crash of row t is a known bug of its policy (run_fuzz.py crash_expected).
  const crashExpected = (t, crash) => Boolean(t.expect_crashes) && (crash.expected ?? true) === true;
  const targets = latestRows(fuzzRuns, 'targets',
    (t) => `${t.target}/${t.policy ?? ''}${noSeeds(t) ? '/no-seeds' : ''}`)
      // Executions per second of all workers; files from before `execs_per_second_total` only
      // have libFuzzer's per-worker figure.
      .map((t) => ({ ...t, rate: t.execs_per_second_total ?? t.execs_per_second,
        rate_is_total: t.execs_per_second_total !== undefined }));
  // The engine's speed, so rows that keep crashing on purpose (must-crash policies: their time
  // goes to crash handling) or stop at their first crash (no seeds) are left out.
  const timed = targets.filter((t) => !noSeeds(t) && !t.expect_crashes &&
    kFuzzSpeedTargets.includes(t.target));
  const speedGoals = kFuzzSpeedTargets.map((name) => {
    const rows = timed.filter((t) => t.target === name);
    if (rows.length === 0) return { target: name, goal: kFuzzSpeedGoal, rate: null, met: null };
    const slowest = rows.reduce((a, b) => (b.rate < a.rate ? b : a));
    return { target: name, goal: kFuzzSpeedGoal, rate: slowest.rate, workers: slowest.workers ?? null,
      label: `${name}${slowest.policy ? '/' + slowest.policy : ''}`,
      met: slowest.rate_is_total ? slowest.rate >= kFuzzSpeedGoal : null };
  });
  return {
    speed_goals: speedGoals,
    targets: targets.map((t) => ({
      ...t,
      label: `${t.target}${t.policy ? '/' + t.policy : ''}${noSeeds(t) ? ' (no seeds)' : ''}`,
      // A crash is expected only where crashes may happen and only when run_fuzz.py judged its
      // kind one of the policy's known bugs (`expected`; files before that field: by target).
      crashes_expected: t.crashes.filter((c) => crashExpected(t, c)).length,
      crashes_unexpected: t.crashes.filter((c) => !crashExpected(t, c)).length,
      // A must-crash target that found nothing from its seeds failed its purpose too; from no
      // seeds, finding nothing within the budget is a time to first crash longer than the run.
      missed_expected: t.expect_crashes && t.crashes.length === 0 && !noSeeds(t),
    })),
    executions: targets.reduce((s, t) => s + t.executions, 0),
    execs_per_second: targets.reduce((s, t) => s + t.rate, 0),
    chart: targets.length ? {
      title: 'fuzzing: executions per second, all workers (latest run of each target)',
      format: 'rate',
      config: {
        type: 'bar',
        data: {
          labels: targets.map((t) => `${t.target}${t.policy ? ' / ' + t.policy : ''}`),
          datasets: [{ label: 'executions per second', data: targets.map((t) => t.rate),
            backgroundColor: colour(0) }],
        },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
      },
    } : null,
  };
}

function stressModel(stressRuns) {
  const storms = latestRows(stressRuns, 'storms',
                            (s) => `${s.storm}/${s.scheme ?? ''}/${s.policy ?? ''}/${s.threads}`);
  const label = (s) => [s.storm, s.scheme, s.policy, `${s.threads} threads`].filter(Boolean)
      .join(' / ');
  const recorded = storms.filter((s) => typeof s.sanitizer_reports === 'number');
  return {
    storms: storms.map((s) => ({ ...s, label: label(s) })),
    operations: storms.reduce((sum, s) => sum + s.operations, 0),
    violations: storms.reduce((sum, s) => sum + s.violations, 0),
    sanitizer_reports: recorded.length ?
      recorded.reduce((sum, s) => sum + s.sanitizer_reports, 0) : null,
    sanitizer_unrecorded: storms.length - recorded.length,
    chart: storms.length ? {
      title: 'storms: operations per second (red: violations or sanitizer reports)',
      format: 'rate',
      config: {
        type: 'bar',
        data: {
          labels: storms.map(label),
          datasets: [{ label: 'operations per second', data: storms.map((s) => s.ops_per_second),
            backgroundColor: storms.map((s) => (s.violations > 0 || s.sanitizer_reports > 0 ?
              '#e15759' : colour(3))) }],
        },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
      },
    } : null,
  };
}

// log10 of a probability for the heat map; 0 stays 0 (shown as "0", never -Infinity).
function log10OrNull(p) {
  return p > 0 ? Math.log10(p) : null;
}

function budgetModel(latest) {
  if (!latest) return null;
  const { file, doc } = latest;
  const layouts = doc.layouts;
  const rows = doc.workloads.map((w) => ({
    name: w.name, file: w.file ?? null, estimated: w.estimated ?? null,
    cells: layouts.map((layout) => {
      const r = w.results.find((x) => x.layout === layout);
      if (!r) return null;
      const refusal = Math.max(r.read_refusal, r.write_refusal);
      return { layout, refusal, log10: log10OrNull(refusal), read_refusal: r.read_refusal,
        write_refusal: r.write_refusal, ordinary_saturation: r.ordinary_saturation ?? null,
        false_maybe_pinned: r.false_maybe_pinned ?? null, meets_target: r.meets_target };
    }),
  }));
  const seed = doc.verdict.seed ?? null;
  const meeting = doc.verdict.meeting ?? [];
  const pareto = doc.verdict.pareto ?? [];
  // The layouts a reader asks about first: the seed's, the frontier, those meeting the target,
  // and bias; a default run covers every split of 32 bits (over 300), which the page folds.
  const wanted = new Set([seed?.layout, ...pareto, ...meeting, 'bias']);
  const headline = layouts.filter((l) => wanted.has(l));
  return {
    file, run: doc.run.id, target: doc.target, log10_target: Math.log10(doc.target), layouts,
    headline, rows, attacks: doc.attacks, meeting, pareto, seed,
  };
}

// The newest mutation run: its kill rate per area and the mutants no test killed.
function mutationModel(latest) {
  if (!latest) return null;
  const { file, doc } = latest;
  return {
    file, run: doc.run.id, kill_rate: doc.kill_rate, interrupted: doc.interrupted,
    areas: doc.areas, mutants: doc.mutants,
    survivors: doc.mutants.filter((m) => m.outcome === 'survived'),
  };
}

// The newest kernel trial: per kernel its selftests, model agreement and attacks; the costs.
function kernelModel(latest) {
  if (!latest) return null;
  const { file, doc } = latest;
  const kernels = Object.entries(doc.kernels).map(([name, k]) => {
    const tests = Object.entries(k.selftests ?? {}).map(([test, t]) => ({ test, ...t }));
    const sum = (key) => tests.reduce((n, t) => n + (t[key] ?? 0), 0);
    const agreement = (f) => (f?.summary ? { policy: f.policy ?? f.model_policy ?? '-', ...f.summary,
      stand_ins: (f.scenarios ?? []).flatMap((s) => s.stand_ins ?? []),
      differing: (f.scenarios ?? []).filter((s) => s.agree === false).map((s) => s.scenario.split('/').at(-1)) } : null);
    const fidelity = agreement(k.fidelity);
    const by_policy = Object.values(k.fidelity_by_policy ?? {}).map(agreement).filter(Boolean);
    return {
      name, tests, pass: sum('pass'), fail: sum('fail') + sum('error'), skip: sum('skip'),
      fidelity, by_policy: by_policy.length ? by_policy : fidelity ? [fidelity] : [], fidelity_error: k.fidelity && !k.fidelity.summary ? (k.fidelity.skipped ?? k.fidelity.error ?? 'no summary') : null,
      false_pin: k.false_pin ?? null,
      warnings: (k.console_warnings ?? []).length,
      build: doc.builds.find((b) => b.variant === name) ?? null,
    };
  });
  return {
    file, run: doc.run.id, layout: doc.layout.join('/'), seconds: doc.seconds ?? null,
    kernels, attacks: doc.attacks, checks: doc.checks,
    failed: doc.checks.filter((c) => !c.ok),
    ratios: doc.costs?.ratio_split_over_stock ?? null, costs: doc.costs ?? null,
    findings: doc.findings ?? null,
  };
}

function fidelityModel(latest) {
  if (!latest) return null;
  const { file, doc } = latest;
  return {
    file, run: doc.run.id, kernel: doc.kernel ?? null, skipped: doc.skipped,
    summary: doc.summary, false_pin: doc.false_pin ?? null,
    scenarios: doc.scenarios,
    disagreements: doc.scenarios.filter((s) => s.agree === false && !s.skipped),
  };
}

// The run every other run is compared with: the newest of all inputs.
function newestRun(results) {
  return [...results].sort(byStarted).at(-1)?.doc.run ?? null;
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
  const newest = newestRun(results);
  const throughput = latest ? throughputCharts(latest.doc) : null;
  return {
    generated: generated.toISOString(),
    // Named once on the first screen: the newest run's revision, machine and date, and how
    // many others the inputs span.
    headline: newest ? {
      revision: newest.git_revision, host: newest.host, cpus: newest.cpus,
      started: newest.started, compiler: newest.compiler,
      revisions: [...new Set(results.map((r) => r.doc.run.git_revision))],
      hosts: [...new Set(results.map((r) => r.doc.run.host))],
    } : null,
    runs: results.map(({ file, doc }) => ({ file, kind: doc.kind, ...doc.run })),
    targets: {
      runs: benchRuns.map((r) => r.doc.run.id),
      latest_run: latest?.doc.run.id ?? null,
      latest: latest ? latest.doc.targets.map((t) => ({ ...t, spread: targetSpread(t) })) : [],
      rows: [...new Set(benchRuns.flatMap((r) => r.doc.targets.map((t) => t.name)))].map(
          (name) => {
            const first = benchRuns.map((r) => r.doc.targets.find((t) => t.name === name))
                .find(Boolean);
            return {
              name, goal: first.goal,
              by_run: benchRuns.map((r) => r.doc.targets.find((t) => t.name === name) ?? null),
            };
          }),
    },
    history: benchRuns.length ? history(benchRuns) : null,
    throughput: latest ? {
      run: latest.doc.run.id, cpus: latest.doc.run.cpus,
      ratios: ratioCharts(latest.doc), lines: throughput.lines, bars: throughput.bars,
    } : null,
    harness_speed: latest ? harnessSpeed(latest.doc) : [],
    changes,
    scenario_map: scenarioMap(ofKind('compare')),
    fuzz: fuzzModel(ofKind('fuzz')),
    stress: stressModel(ofKind('stress')),
    budget: budgetModel(ofKind('budget').at(-1)),
    fidelity: fidelityModel(ofKind('fidelity').at(-1)),
    mutation: mutationModel(ofKind('mutation').at(-1)),
    kernel: kernelModel(ofKind('kernel').at(-1)),
  };
}
