// SPDX-License-Identifier: MIT
// Renders the page model (model.mjs) into one self-contained HTML document: tables as HTML,
// charts as <canvas> elements drawn by client.js with Chart.js, both inlined, so the file opens
// from disk with no network. Every value from the inputs is HTML-escaped, and the embedded JSON
// cannot close its <script> element.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { kAlpha } from './model.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

// The UMD build of Chart.js from dashboard/node_modules. Its package exports only the module
// builds, so the UMD file is found beside the CommonJS entry point (dist/chart.cjs).
export function chartJsSource() {
  let entry;
  try {
    entry = require.resolve('chart.js');
  } catch {
    throw new Error('Chart.js is not installed: run `npm ci` in dashboard/ ' +
                    '(./harness dashboard does it)');
  }
  const file = path.join(path.dirname(entry), 'chart.umd.min.js');
  return { file, source: fs.readFileSync(file, 'utf8') };
}

export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

// Inline <script> bodies must never contain "</script" (or "<!--"); JSON escapes '<' instead.
function scriptSafe(source) {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

export function formatRatio(value) {
  return value === null || value === undefined ? '-' : `${value.toFixed(3)}x`;
}

export function formatRate(value) {
  if (value === null || value === undefined) return '-';
  for (const [size, unit] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) {
    if (Math.abs(value) >= size) return `${(value / size).toFixed(2)}${unit}/s`;
  }
  return `${value.toFixed(1)}/s`;
}

function formatChange(change) {
  return `${change >= 0 ? '+' : ''}${(100 * change).toFixed(1)}%`;
}

function formatP(p) {
  return p === null ? '-' : p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

function table(headers, rows, attributes = '') {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((row) => `<tr${row.attributes ?? ''}>${row.cells.map((c) =>
    `<td${c.cls ? ` class="${c.cls}"` : ''}>${c.html ?? escapeHtml(c.text ?? c)}</td>`).join('')}</tr>`).join('\n');
  return `<table${attributes}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function metBadge(met) {
  if (met === true) return { html: '<span class="badge met">met</span>', cls: 'met' };
  if (met === false) return { html: '<span class="badge unmet">NOT met</span>', cls: 'unmet' };
  return { html: '<span class="badge none">not measured</span>' };
}

function formatCount(value) {
  if (value === null || value === undefined) return '-';
  for (const [size, unit] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) {
    if (Math.abs(value) >= size) return `${(value / size).toFixed(1)}${unit}`;
  }
  return String(value);
}

function formatSeconds(value) {
  if (value === null || value === undefined) return '-';
  return value < 10 ? `${value.toFixed(2)} s` : `${value.toFixed(0)} s`;
}

function formatProbability(p) {
  if (p === null || p === undefined) return '-';
  if (p === 0) return '0';
  return p.toExponential(1);
}

function formatSpread(spread) {
  return spread ? `${spread.min.toFixed(3)}–${spread.max.toFixed(3)} (${spread.repetitions} rep.)` :
    'none (one repetition)';
}

class ChartList {
  constructor() {
    this.specs = [];
  }
  canvas(spec) {
    this.specs.push(spec);
    return `<div class="chart${spec.tall ? ' tall' : ''}"><canvas data-chart="${this.specs.length - 1}" ` +
      `aria-label="${escapeHtml(spec.title)}" role="img"></canvas></div>`;
  }
}

// ---- The verdict board: one tile per question, each linking to its detail section. ----------

// A tile: `value` is the answer in a few words (never empty: "no result" when its input is
// absent), `status` colours it (good, bad, warn, none), `lines` add a few facts.
function tile({ id, title, href, value, status, lines = [], html = '', wide = false, full = title }) {
  return `<a class="tile ${status}${wide ? ' wide' : ''}" href="${href}" data-tile="${escapeHtml(id)}" title="${escapeHtml(full)}">
<span class="tile-title">${escapeHtml(title)}</span>
<span class="tile-value">${escapeHtml(value)}</span>
${lines.length ? `<span class="tile-lines">${lines.map((l) => `<span>${escapeHtml(l)}</span>`).join('')}</span>` : ''}${html}</a>`;
}

const kNoResult = 'no result';

// Short names for target tiles (the full name is in the tile's title attribute and the table).
function shortTarget(name) {
  return name.replace('split get/put contended: share of the hardware fetch_add/CAS ratio',
                      'split vs cas_split get/put (contended), share of the hardware ratio')
      .replace(' uncontended', ' (uncont.)').replace(' contended', ' (contended)');
}

function targetTiles(model) {
  if (model.targets.latest.length === 0) {
    return [tile({ id: 'targets', title: 'performance targets', href: '#targets', value: kNoResult,
      status: 'none', lines: ['no bench result among the inputs'] })];
  }
  return model.targets.latest.map((t, i) => {
    const raw = t.raw ? [Object.entries(t.raw).map(([k, v]) => `${k.replace('_vs_', '/')} ${formatRatio(v)}`).join(', ')] : [];
    return tile({
      id: `target-${i}`, title: shortTarget(t.name), full: t.name, href: '#targets', wide: Boolean(t.raw),
      value: t.measured === null ? 'not measured' :
        `${formatRatio(t.measured)} ${t.met ? 'met' : 'NOT met'}`,
      status: t.met === true ? 'good' : t.met === false ? 'bad' : 'none',
      lines: [`goal ${t.goal}`, `spread ${formatSpread(t.spread)}`, ...raw],
    });
  });
}

function safetyTile(model) {
  const map = model.scenario_map;
  if (map.scenarios.length === 0) {
    return tile({ id: 'safety', title: 'safety matrix (policies)', href: '#scenario-map',
      value: kNoResult, status: 'none', lines: ['no compare result among the inputs'] });
  }
  const safe = map.by_policy.filter((p) => p.violated === 0);
  const rows = map.by_policy.map((p) => `<tr><td>${escapeHtml(p.policy)}</td>` +
    `<td class="${p.violated ? 'unmet' : 'met'}">${p.violated}</td><td>${p.extra_copies}</td>` +
    `<td>${p.clean}</td></tr>`).join('');
  return tile({
    id: 'safety', title: `safety matrix: ${map.scenarios.length} scenarios`, href: '#scenario-map',
    value: `${safe.length} of ${map.policies.length} policies never violate`,
    status: safe.length ? 'good' : 'bad',
    html: `<table class="mini"><thead><tr><th>policy</th><th title="scenarios with a violation">viol.</th>` +
      `<th title="scenarios with copies beyond ideal">copies</th><th title="clean scenarios">clean</th>` +
      `</tr></thead><tbody>${rows}</tbody></table>`,
  });
}

function fuzzTile(model) {
  const { targets } = model.fuzz;
  if (targets.length === 0) {
    return tile({ id: 'fuzz', title: 'fuzzing', href: '#fuzz', value: kNoResult, status: 'none',
      lines: ['no fuzz result among the inputs'] });
  }
  const unexpected = targets.reduce((s, t) => s + t.crashes_unexpected, 0);
  const missed = targets.filter((t) => t.missed_expected).length;
  const rows = targets.map((t) => `<tr><td>${escapeHtml(t.label)}</td>` +
    `<td>${escapeHtml(formatCount(t.executions))}</td><td>${escapeHtml(formatRate(t.rate))}</td>` +
    `<td>${t.coverage}</td>` +
    `<td class="${t.crashes_unexpected || t.missed_expected ? 'unmet' : ''}">` +
    `${t.crashes_unexpected ? `${t.crashes_unexpected} NEW` : t.expect_crashes ? `${t.crashes_expected} exp.` : '0'}</td>` +
    `<td>${escapeHtml(formatSeconds(t.time_to_first_crash_seconds))}</td></tr>`).join('');
  return tile({
    id: 'fuzz', title: `fuzzing: ${targets.length} targets`, href: '#fuzz',
    value: unexpected ? `${unexpected} unexpected crash(es)` :
      missed ? `${missed} must-crash target(s) found nothing` : 'no unexpected crash',
    status: unexpected || missed ? 'bad' : 'good',
    lines: [`${formatCount(model.fuzz.executions)} executions, ${formatRate(model.fuzz.execs_per_second)}`],
    html: `<table class="mini"><thead><tr><th>target</th><th>execs</th><th>exec/s</th><th>cov</th>` +
      `<th>crashes</th><th>1st crash</th></tr></thead><tbody>${rows}</tbody></table>`,
  });
}

function stressTile(model) {
  const s = model.stress;
  if (s.storms.length === 0) {
    return tile({ id: 'stress', title: 'storms', href: '#stress', value: kNoResult, status: 'none',
      lines: ['no stress result among the inputs'] });
  }
  const bad = s.violations > 0 || s.sanitizer_reports > 0;
  return tile({
    id: 'stress', title: `storms: ${s.storms.length}`, href: '#stress',
    value: `${s.violations} violation(s), ` + (s.sanitizer_reports === null ?
      'sanitizer reports not recorded' : `${s.sanitizer_reports} sanitizer report(s)`),
    status: bad ? 'bad' : s.sanitizer_unrecorded ? 'warn' : 'good',
    lines: [`${formatCount(s.operations)} operations`,
      ...(s.sanitizer_unrecorded ? [`${s.sanitizer_unrecorded} storm(s) without sanitizer_reports`] : []),
      ...s.storms.filter((st) => st.violations > 0 || st.sanitizer_reports > 0)
          .slice(0, 3).map((st) => `${st.label}: ${st.violations} viol., ${st.sanitizer_reports ?? '?'} reports`)],
  });
}

function budgetTile(model) {
  const b = model.budget;
  if (!b) {
    return tile({ id: 'budget', title: 'bit budget', href: '#budget', value: kNoResult,
      status: 'none', lines: ['no budget result among the inputs'] });
  }
  const seed = b.seed;
  return tile({
    id: 'budget', title: `bit budget (target ${formatProbability(b.target)})`, href: '#budget',
    value: seed ? `seed ${seed.layout}: ${seed.meets ? 'meets' : 'does NOT meet'}` : 'no seed verdict',
    status: seed ? (seed.meets ? 'good' : 'bad') : 'none',
    lines: [
      ...(seed && !seed.meets ? [`fails: ${seed.failing_workloads.join(', ')}`] : []),
      `meeting: ${b.meeting.length ? b.meeting.join(', ') : 'none'}`,
      `Pareto: ${b.pareto.join(', ') || '-'}`],
  });
}

function mutationTile(model) {
  const m = model.mutation;
  if (!m) {
    return tile({ id: 'mutation', title: 'mutation kill rate', href: '#mutation', value: kNoResult,
      status: 'none', lines: ['no mutation result among the inputs (./harness mutate)'] });
  }
  const percent = (r) => (r === null ? '-' : `${(100 * r).toFixed(0)}%`);
  return tile({
    id: 'mutation', title: 'mutation kill rate', href: '#mutation',
    value: `${percent(m.kill_rate)} killed${m.interrupted ? ' (interrupted)' : ''}`,
    status: m.kill_rate === null ? 'none' : m.survivors.length ? 'bad' : 'good',
    lines: [m.areas.map((a) => `${a.area} ${percent(a.kill_rate)}`).join(', '),
      `${m.survivors.length} survivor(s)`],
  });
}

function kernelTile(model) {
  const k = model.kernel;
  if (!k) {
    return tile({ id: 'kernel', title: 'the proposal in Linux', href: '#kernel', value: kNoResult,
      status: 'none', lines: ['no kernel trial among the inputs (./harness kernel)'] });
  }
  const passed = k.checks.length - k.failed.length;
  const refused = k.attacks.filter((a) => a.kernel !== 'stock' && /refused|saturated/.test(a.outcome));
  return tile({
    id: 'kernel', title: `the proposal in Linux (${k.layout})`, href: '#kernel',
    value: `${passed} / ${k.checks.length} checks hold`,
    status: k.failed.length ? 'bad' : 'good',
    lines: [k.kernels.map((x) => `${x.name}: selftests ${x.pass} pass, ${x.fail} fail`).join('; '),
      `attacks stopped by split: ${refused.length} of ${k.attacks.filter((a) => a.kernel !== 'stock').length}`,
      ...(k.ratios ? [`costs split/stock: ${Object.values(k.ratios).map((r) => r.toFixed(2)).join(', ')}`] : [])],
  });
}

function fidelityTile(model) {
  const f = model.fidelity;
  if (!f) {
    return tile({ id: 'fidelity', title: 'model vs kernel', href: '#fidelity', value: kNoResult,
      status: 'none', lines: ['no fidelity result among the inputs'] });
  }
  if (f.skipped) {
    return tile({ id: 'fidelity', title: 'model vs kernel', href: '#fidelity',
      value: 'skipped', status: 'warn', lines: [f.skipped] });
  }
  const { agree, disagree, skipped, total } = f.summary;
  return tile({
    id: 'fidelity', title: `model vs kernel${f.kernel ? ` (${f.kernel})` : ''}`, href: '#fidelity',
    value: `${agree} / ${total - skipped} agree`,
    status: disagree ? 'bad' : 'good',
    lines: [`${disagree} disagree, ${skipped} skipped`,
      ...f.disagreements.slice(0, 2).map((d) => `${d.scenario.split('/').at(-1)} line ${d.first_difference?.line ?? '?'}`)],
  });
}

// "interleave 14.3k/s of 20.0k (2 workers)": a fuzz speed goal as the board states it.
function formatSpeedGoal(g) {
  if (g.rate === null) return `${g.target}: no timed fuzz run`;
  const workers = g.workers ? ` (${g.workers} workers)` : ' (per worker)';
  return `${g.label}: ${formatRate(g.rate)} of ${formatRate(g.goal)}${workers}`;
}

function harnessTile(model) {
  const rows = model.harness_speed;
  const goals = model.fuzz.speed_goals.filter((g) => g.rate !== null);
  if (rows.length === 0 && goals.length === 0) {
    return tile({ id: 'harness', title: 'harness speed', href: '#harness-speed', value: kNoResult,
      status: 'none', lines: ['no BM_Harness benchmark and no timed fuzz run among the inputs'] });
  }
  const met = goals.filter((g) => g.met === true).length;
  return tile({
    id: 'harness', title: 'harness speed', href: '#harness-speed',
    value: goals.length ? `${met} / ${goals.length} fuzz speed goals met` :
      `${rows.length} engine benchmark(s)`,
    status: goals.length === 0 ? 'none' : met === goals.length ? 'good' : 'warn',
    lines: [...goals.map(formatSpeedGoal),
      ...rows.slice(0, 4 - Math.min(goals.length, 2)).map((r) =>
        `${r.benchmark.replace('BM_Harness/', '')}: ${formatRate(r.items_per_second)}`)],
  });
}

function verdictBoard(model) {
  return `<section id="verdict" aria-label="verdict board">
<div class="tiles targets-tiles">${targetTiles(model).join('\n')}</div>
<div class="tiles health-tiles">${[safetyTile(model), fuzzTile(model), stressTile(model),
    budgetTile(model), fidelityTile(model), harnessTile(model), mutationTile(model),
    kernelTile(model)].join('\n')}</div>
</section>`;
}

// ---- Detail sections. ------------------------------------------------------------------------

function targetsSection(model, charts) {
  const { targets } = model;
  if (targets.runs.length === 0) {
    return '<section id="targets"><h2>Targets</h2><p class="empty">No bench run among the inputs.</p></section>';
  }
  const headers = ['target', 'goal', `${targets.latest_run} (latest)`, 'met', 'spread over repetitions', 'raw figures'];
  const rows = targets.latest.map((t) => ({
    attributes: ` data-target="${escapeHtml(t.name)}"`,
    cells: [t.name, t.goal,
      { html: `<span class="measured" data-measured="${t.measured ?? ''}">${escapeHtml(formatRatio(t.measured))}</span>` +
        (t.note ? ` <small>${escapeHtml(t.note)}</small>` : '') +
        (t.threads?.length ? ` <small>threads ${escapeHtml(t.threads.join(','))}</small>` : '') },
      metBadge(t.met), formatSpread(t.spread),
      t.raw ? Object.entries(t.raw).map(([k, v]) => `${k} ${formatRatio(v)}`).join('; ') : '-'],
  }));
  const ratios = model.throughput?.ratios ?? [];
  return `<section id="targets"><h2>Targets and ratio to plain</h2>
<p>Throughput ratios measured side by side in one process (bench/report.py): each target's value
is the geometric mean over the thread counts that fit the CPUs (contended: from 2 threads).
The contended split-vs-compare-exchange target is the share of the hardware's own
fetch_add / compare-exchange-loop ratio, measured on a bare word in the same run, so it means the
same on every machine. Reported, never asserted.</p>
${table(headers, rows, ' id="targets-table"')}
${ratios.map((spec) => charts.canvas(spec)).join('\n')}</section>`;
}

function throughputSection(model, charts) {
  if (!model.throughput) return '';
  const { run, cpus, lines, bars } = model.throughput;
  const folded = lines.map((spec) => `<details class="chart-fold"><summary>${escapeHtml(spec.operation)}</summary>
${charts.canvas(spec)}</details>`).join('\n');
  return `<section id="throughput"><h2>Throughput (run ${escapeHtml(run)})</h2>
<p>Operations per second of all threads together; uncontended: each thread on its own counter
and cache line; contended: every thread on one counter. More threads than the ${cpus} CPUs is
marked oversubscribed: it measures the scheduler, not scaling.</p>
${bars.length ? `<h3>Single-thread mm costs</h3><div class="grid">${bars.map((b) => charts.canvas(b)).join('\n')}</div>` : ''}
<h3>Throughput against threads, by operation</h3>
${folded}</section>`;
}

function harnessSection(model) {
  const goals = model.fuzz.speed_goals.map((g) => ({
    cells: [g.label ?? g.target, formatRate(g.goal), g.rate === null ? '-' : formatRate(g.rate),
      g.workers ? String(g.workers) : '-', metBadge(g.met)] }));
  const goalTable = `<p>The fuzz targets under libFuzzer (fuzz preset, ASan on, fork mode on every
core of the machine): executions per second of all workers together, for the slowest policy of
each target that must not crash. Goal: at least ${formatRate(model.fuzz.speed_goals[0]?.goal ?? 0)} each.</p>
${table(['target', 'goal', 'measured', 'workers', 'met'], goals, ' class="harness-goals"')}`;
  if (model.harness_speed.length === 0) {
    return `<section id="harness-speed"><h2>Harness speed</h2>${goalTable}<p class="empty">No ` +
      '<code>BM_Harness/...</code> benchmark in the latest bench result.</p></section>';
  }
  const rows = model.harness_speed.map((r) => ({
    cells: [r.engine, r.benchmark, formatRate(r.items_per_second), String(r.repetitions)] }));
  return `<section id="harness-speed"><h2>Harness speed</h2>
${goalTable}
<p>How fast the checkers run on their own, without libFuzzer: schedules or executions per second
(Google Benchmark <code>BM_Harness/...</code>, median of the repetitions).</p>
${table(['engine', 'benchmark', 'per second', 'repetitions'], rows, ' class="harness"')}</section>`;
}

function historySection(model, charts) {
  const h = model.history;
  if (!h) return '';
  const rows = h.rows.map((r) => ({
    cells: [r.name, ...r.measured.map((m) => formatRatio(m)),
      r.latest ? formatChange(r.latest.change) : '-',
      r.latest ? formatP(r.latest.p) : '-',
      r.latest ? { text: r.latest.verdict, cls: r.latest.verdict === 'regression' ? 'unmet' :
        r.latest.verdict === 'improvement' ? 'met' : '' } : 'one run only'],
  }));
  return `<section id="history"><h2>History</h2>
<p>Each target's ratio over the bench runs given (oldest first). The latest change is tested
with a two-sided Mann-Whitney U test on the target's per-repetition values (p &lt; ${kAlpha});
with fewer than 2 repetitions a side it is "untested" (run <code>./harness bench --full</code>).
<code>./harness run</code> keeps a copy of each run's results in <code>results/history/</code>.</p>
${h.chart ? charts.canvas(h.chart) : ''}
${table(['target', ...h.runs.map((r) => `${r.revision} ${r.started.slice(0, 16)}`), 'latest change', 'p', 'verdict'], rows, ' id="history-table"')}
</section>`;
}

function changesSection(model) {
  if (model.changes.length === 0) return '';
  const parts = model.changes.map((c) => {
    const rows = c.rows.map((r) => ({
      attributes: ` class="${r.verdict.replace(/ /g, '-')}"`,
      cells: [r.benchmark, formatRate(r.old_median), formatRate(r.new_median),
        { text: formatChange(r.change), cls: r.change < 0 ? 'down' : 'up' },
        `${r.old_repetitions} / ${r.new_repetitions}`, formatP(r.p), r.method,
        { text: r.verdict, cls: r.verdict === 'regression' ? 'unmet' : r.verdict === 'improvement' ? 'met' : '' }],
    }));
    return `<details><summary>${escapeHtml(c.before)} &rarr; ${escapeHtml(c.after)}:
<strong class="${c.regressions ? 'unmet' : ''}">${c.regressions} regression(s)</strong>,
${c.improvements} improvement(s), ${c.untested} untested of ${c.rows.length} benchmarks</summary>
${table(['benchmark', 'before (median)', 'after (median)', 'change', 'repetitions', 'p (U test)', 'method', 'verdict'], rows, ' class="changes"')}</details>`;
  });
  return `<section id="changes"><h2>Changes between runs, per benchmark</h2>
<p>Per benchmark, the median throughput of each run's repetitions and a two-sided Mann-Whitney U
test on them (as Google Benchmark's compare.py): a change is significant when p &lt; ${model.changes[0].alpha};
a significant drop is a <span class="unmet">regression</span>. With fewer than
${model.changes[0].min_repetitions} repetitions a side there is no test ("untested").</p>
${parts.join('\n')}</section>`;
}

const kVerdictText = { violation: 'violation', copies: 'copies beyond ideal', clean: 'clean',
  absent: 'not run' };

function scenarioMapSection(model) {
  const map = model.scenario_map;
  if (map.scenarios.length === 0) {
    return '<section id="scenario-map"><h2>Scenario × policy</h2><p class="empty">No compare result among the inputs.</p></section>';
  }
  const head = `<tr><th>scenario</th>${map.policies.map((p) => `<th>${escapeHtml(p)}</th>`).join('')}</tr>`;
  const body = map.rows.map((row) => `<tr><th class="scenario"><a href="#scenario-${escapeHtml(row.scenario)}">${escapeHtml(row.scenario.split('/').at(-1))}</a></th>${row.cells.map((c) => {
    const hover = c.verdict === 'absent' ? 'not run' : map.measures.map((m) => `${m}: ${c[m]}`).join('\n') +
      (c.first_violation ? `\nfirst violation: ${c.first_violation}` : '');
    const text = c.verdict === 'violation' ? `${c.violations} viol.` :
      c.verdict === 'copies' ? `+${c.copies_beyond_ideal} copies` : c.verdict === 'clean' ? 'clean' : '-';
    return `<td class="cell ${c.verdict}" data-scenario="${escapeHtml(row.scenario)}" data-policy="${escapeHtml(c.policy)}" title="${escapeHtml(hover)}">${escapeHtml(text)}</td>`;
  }).join('')}</tr>`).join('\n');
  const details = map.rows.map((row) => {
    const rows = row.policies.map((p) => ({
      cells: [p.policy, ...map.measures.map((m) => ({ text: String(p[m]), cls: m === 'violations' && p[m] > 0 ? 'unmet' : '' })),
        p.first_violation ?? '-'],
    }));
    return `<details id="scenario-${escapeHtml(row.scenario)}"><summary>${escapeHtml(row.scenario)} <small>(run ${escapeHtml(row.run)})</small></summary>
${table(['policy', ...map.measures, 'first violation'], rows, ' class="policies"')}</details>`;
  }).join('\n');
  return `<section id="scenario-map"><h2>Scenario × policy</h2>
<p>Each mm scenario (rows) under each COW/pin policy (columns), from <code>pinsplit compare</code>:
<span class="cell violation">violation</span> (the truth oracle caught a wrong result),
<span class="cell copies">copies beyond ideal</span> (safe but copies more than the omniscient
policy), <span class="cell clean">clean</span>. Hover a cell for its counts; the tables below are
folded.</p>
<table id="scenario-map-table"><thead>${head}</thead><tbody>${body}</tbody></table>
${details}</section>`;
}

function fuzzSectionHtml(model, charts) {
  const { targets, chart } = model.fuzz;
  if (targets.length === 0) return '<section id="fuzz"><h2>Fuzzing</h2><p class="empty">No fuzz result among the inputs.</p></section>';
  const rows = targets.map((t) => ({
    cells: [t.target, t.policy ?? '-', String(t.seconds), String(t.executions),
      formatRate(t.rate), t.rate_is_total ? formatRate(t.execs_per_second) : '-',
      String(t.coverage), String(t.features), String(t.corpus_size),
      { text: `${t.crashes.length}${t.expect_crashes ? ' (expected)' : ''}`, cls: t.crashes_unexpected || t.missed_expected ? 'unmet' : '' },
      formatSeconds(t.time_to_first_crash_seconds),
      t.from_seeds === undefined ? '-' : t.from_seeds ? 'yes' : 'no', String(t.seed), t.run],
  }));
  const crashes = targets.flatMap((t) => t.crashes.map((c) => `<li><code>${escapeHtml(c.file ?? '')}</code>` +
    `<pre>${escapeHtml(c.decoded ?? '')}</pre></li>`));
  // ASan's settings change the speed (the quarantine's size, fork mode's fresh heaps): say them.
  const asan = [...new Set(targets.map((t) => t.asan_options).filter(Boolean))];
  const asanLine = asan.length ?
    `<p>ASAN_OPTIONS of these runs: ${asan.map((o) => `<code>${escapeHtml(o)}</code>`).join(', ')}.</p>` :
    '';
  return `<section id="fuzz"><h2>Fuzzing</h2>
<p>The latest result of each target. Must-crash targets (a policy known to be wrong) are expected
to crash; any other crash is a finding.</p>${asanLine}
${table(['target', 'policy', 'seconds', 'executions', 'execs/s (all workers)', 'per worker', 'coverage', 'features', 'corpus', 'crashes', 'first crash after', 'from seeds', 'seed', 'run'], rows, ' class="fuzz"')}
${crashes.length ? `<details><summary>crashes (${crashes.length})</summary><ul>${crashes.join('')}</ul></details>` : ''}
${chart ? charts.canvas(chart) : ''}</section>`;
}

function stressSectionHtml(model, charts) {
  const { storms, chart } = model.stress;
  if (storms.length === 0) return '<section id="stress"><h2>Storms</h2><p class="empty">No stress result among the inputs.</p></section>';
  const rows = storms.map((st) => ({
    cells: [st.storm, st.scheme ?? '-', st.policy ?? '-', String(st.threads), String(st.cpus ?? '-'),
      String(st.seconds), String(st.operations), formatRate(st.ops_per_second),
      { text: String(st.violations), cls: st.violations > 0 ? 'unmet' : 'met' },
      { text: st.sanitizer_reports === undefined ? 'not recorded' : String(st.sanitizer_reports),
        cls: st.sanitizer_reports > 0 ? 'unmet' : '' },
      String(st.seed), { html: `<code>${escapeHtml(st.replay)}</code>` }],
  }));
  return `<section id="stress"><h2>Storms</h2>
${table(['storm', 'scheme', 'policy', 'threads', 'CPUs', 'seconds', 'operations', 'ops/s', 'violations', 'sanitizer reports', 'seed', 'replay'], rows, ' class="storms"')}
${chart ? charts.canvas(chart) : ''}</section>`;
}

// Heat colour for log10 of a refusal probability: green far below the target, red above it.
function heat(log10, log10Target) {
  if (log10 === null) return 'hsl(120 55% 80%)';  // exactly 0
  const t = Math.max(0, Math.min(1, (log10 - (log10Target - 6)) / 6));  // 6 decades below -> 0
  return `hsl(${Math.round(120 - 120 * t)} 65% ${Math.round(82 - 20 * t)}%)`;
}

function heatCell(c, log10Target) {
  if (c === null) return '<td>-</td>';
  const title = `read refusal ${formatProbability(c.read_refusal)}\nwrite refusal ${formatProbability(c.write_refusal)}` +
    `\nordinary saturation ${formatProbability(c.ordinary_saturation)}\nfalse maybe-pinned ${formatProbability(c.false_maybe_pinned)}` +
    `\n${c.meets_target ? 'meets' : 'misses'} the target`;
  return `<td class="heat${c.meets_target ? '' : ' fails'}" style="background:${heat(c.log10, log10Target)}" title="${escapeHtml(title)}">${c.log10 === null ? '0' : c.log10.toFixed(1)}</td>`;
}

function budgetSection(model) {
  const b = model.budget;
  if (!b) return '<section id="budget"><h2>Bit budget</h2><p class="empty">No budget result among the inputs (<code>pinsplit budget --json</code>).</p></section>';
  const heatTable = (layouts, id) => {
    const head = `<tr><th>layout</th>${b.rows.map((r) => `<th>${escapeHtml(r.name)}${r.estimated ? ' <small>(est.)</small>' : ''}</th>`).join('')}</tr>`;
    const body = layouts.map((l) => {
      const i = b.layouts.indexOf(l);
      const marks = `${b.pareto.includes(l) ? ' ◆' : ''}${b.seed?.layout === l ? ' (seed)' : ''}`;
      return `<tr><th class="${b.pareto.includes(l) ? 'pareto' : ''}">${escapeHtml(l)}${marks}</th>${b.rows.map((r) => heatCell(r.cells[i], b.log10_target)).join('')}</tr>`;
    }).join('\n');
    return `<div class="wide"><table id="${id}"><thead>${head}</thead><tbody>${body}</tbody></table></div>`;
  };
  // Every attack on every layout is in the result file; the page keeps the headline layouts'.
  const shownAttacks = b.layouts.length <= 12 ? b.attacks : b.attacks.filter((a) => b.headline.includes(a.layout));
  const attacks = shownAttacks.map((a) => ({
    cells: [a.attack, a.field, a.layout, a.mitigation, formatCount(a.syscalls ?? null),
      formatCount(a.memlock_bytes ?? null), formatCount(a.kernel_bytes ?? null), a.estimated ? 'estimated' : 'measured'],
  }));
  return `<section id="budget"><h2>Bit budget</h2>
<p>log<sub>10</sub> of the refusal probability (the larger of read and write refusal) per workload
and layout, target ${formatProbability(b.target)} (log<sub>10</sub> ${b.log10_target.toFixed(1)}); outlined
cells miss it. ◆ marks the Pareto frontier: ${escapeHtml(b.pareto.join(', ') || 'none')}. Layouts meeting
the target on every workload: ${escapeHtml(b.meeting.join(', ') || 'none')}.
${b.seed ? `The seed layout ${escapeHtml(b.seed.layout)} ${b.seed.meets ? 'meets it' : `does not (fails ${escapeHtml(b.seed.failing_workloads.join(', '))})`}.` : ''}
Hover a cell for every probability.</p>
${heatTable(b.headline, 'budget-heat')}
<details><summary>Every layout (${b.layouts.length})</summary>
${heatTable(b.layouts, 'budget-heat-all')}
</details>
<h3>Attack cost${shownAttacks.length < b.attacks.length ? ' (the layouts above; every layout in the result file)' : ''}</h3>
${table(['attack', 'field', 'layout', 'mitigation', 'syscalls', 'memlock bytes', 'kernel bytes', ''], attacks, ' id="attack-table"')}
</section>`;
}

function mutationSection(model) {
  const m = model.mutation;
  if (!m) return '<section id="mutation"><h2>Mutation check</h2><p class="empty">No mutation result among the inputs (<code>./harness mutate</code>).</p></section>';
  const rate = (r) => (r === null ? '-' : `${(100 * r).toFixed(0)}%`);
  const areas = m.areas.map((a) => ({
    cells: [a.area, a.mutants, a.killed, a.survived, a.invalid, rate(a.kill_rate)],
    attributes: a.survived ? ' class="unmet"' : '',
  }));
  const mutants = m.mutants.map((x) => ({
    cells: [x.id, x.area, `${x.file}:${x.line}`, x.kind, x.outcome, x.why ?? '', x.detail ?? ''],
    attributes: x.outcome === 'survived' ? ' class="unmet"' : '',
  }));
  return `<section id="mutation"><h2>Mutation check</h2>
<p>Run ${escapeHtml(m.run)}: small mutations of core/ and budget/, each against its area's tests;
${rate(m.kill_rate)} killed. A survivor names a promise no test holds the code to.</p>
${table(['area', 'mutants', 'killed', 'survived', 'invalid', 'kill rate'], areas, ' id="mutation-areas"')}
<details><summary>Every mutant (${m.mutants.length})</summary>
${table(['id', 'area', 'where', 'kind', 'outcome', 'breaks', 'detail'], mutants, ' id="mutation-mutants"')}
</details></section>`;
}

function kernelSection(model) {
  const k = model.kernel;
  if (!k) return '<section id="kernel"><h2>The proposal in Linux</h2><p class="empty">No kernel trial among the inputs (<code>./harness kernel</code>).</p></section>';
  const selftests = k.kernels.flatMap((x) => x.tests.map((t) => ({
    cells: [x.name, t.test, t.pass ?? 0, { text: String(t.fail + (t.error ?? 0)), cls: t.fail || t.error ? 'unmet' : 'met' },
      t.skip ?? 0, (t.failed ?? []).slice(0, 2).join('; ') || '-'],
  })));
  const agreement = k.kernels.flatMap((x) => (x.by_policy.length ? x.by_policy : [null]).map((f) => ({
    cells: [x.name, f ? f.policy : '-',
      f ? { text: `${f.agree} / ${f.total - f.skipped}`, cls: f.disagree ? 'unmet' : 'met' } : x.fidelity_error ?? '-',
      f ? f.skipped : '-', f ? (f.differing.join(', ') || 'none') : '-',
      f ? ([...new Set(f.stand_ins)].length ? `${new Set(f.stand_ins).size} kinds` : 'none') : '-',
      x.warnings, x.build ? `${(x.build.wall_s / 60).toFixed(1)} min${x.build.incremental ? ' (incr.)' : ''}` : '-'],
  })));
  const fieldText = (f) => (f ? `R ${f.read} RW ${f.rw} ord ${f.ordinary}${f.saturated ? ' (sat.)' : ''}` : '-');
  const attacks = k.attacks.map((a) => ({
    cells: [a.kernel, a.attack, a.mechanism, a.predicted ? `${a.predicted.attack}: ${a.predicted.units} units` : '-',
      a.outcome, fieldText(a.at_max ?? a.held), fieldText(a.after)],
  }));
  const costs = k.ratios ? Object.entries(k.ratios).map(([name, r]) => ({
    cells: [name.replace(/_us$/, ''), k.costs[k.kernels[0].name][name].toFixed(2),
      k.costs[k.kernels[1].name][name].toFixed(2), r.toFixed(3)],
  })) : [];
  const checks = k.checks.map((c) => ({
    cells: [c.check, { text: c.ok ? 'ok' : 'FAILED', cls: c.ok ? 'met' : 'unmet' }, c.ok ? '' : c.detail ?? ''],
  }));
  const f = k.findings;
  return `<section id="kernel"><h2>The proposal in Linux</h2>
<p>Run ${escapeHtml(k.run)}: Linux 6.12 as user-mode Linux, stock and with the split refcount
(layout ${escapeHtml(k.layout)}), the same trial in both (docs/kernel.md).</p>
<h3>Selftests</h3>
${table(['kernel', 'test', 'pass', 'fail', 'skip', 'failures'], selftests, ' id="kernel-selftests"')}
<h3>Model agreement</h3>
${table(['kernel', 'model policy', 'agree', 'skipped', 'differing', 'stand-ins', 'kernel warnings', 'build'], agreement, ' id="kernel-agreement"')}
<h3>Attacks</h3>
${table(['kernel', 'attack', 'mechanism', 'budget predicts', 'outcome', 'fields at the limit', 'fields after release'], attacks, ' id="kernel-attacks"')}
<h3>Costs, split over stock</h3>
${costs.length ? table(['operation (µs)', 'stock', 'split', 'split / stock'], costs, ' id="kernel-costs"') : '<p class="empty">No costs in this run.</p>'}
${f ? `<p>Findings: ${f.unpin_sites.total} unpin call sites, ${f.unpin_sites.with_kind.length} changed to name the kind, ${f.unpin_sites.inferred} inferred;
${f.signed_readers.count} signed readers of the count; ${f.raw_word_readers.length} raw readers of the word.</p>` : ''}
<details${k.failed.length ? ' open' : ''}><summary>Checks (${k.checks.length - k.failed.length} of ${k.checks.length} hold)</summary>
${table(['check', 'result', 'detail'], checks, ' id="kernel-checks"')}
</details></section>`;
}

function fidelitySection(model) {
  const f = model.fidelity;
  if (!f) return '<section id="fidelity"><h2>Model vs kernel</h2><p class="empty">No fidelity result among the inputs (<code>pinsplit fidelity --json</code>).</p></section>';
  const rows = f.scenarios.map((s) => ({
    cells: [s.scenario, { text: s.skipped ? `skipped: ${s.skipped}` : s.agree ? 'agree' : 'DISAGREE',
      cls: s.agree === false ? 'unmet' : s.agree ? 'met' : '' },
    s.first_difference ? `line ${s.first_difference.line}: ${s.first_difference.op}` : '-',
    s.first_difference ? s.first_difference.model : '-', s.first_difference ? s.first_difference.host : '-',
    (s.stand_ins ?? []).join('; ') || '-'],
  }));
  return `<section id="fidelity"><h2>Model vs kernel</h2>
<p>${f.skipped ? `Skipped: ${escapeHtml(f.skipped)}.` : `${f.summary.agree} of ${f.summary.total - f.summary.skipped} scenarios agree
(${f.summary.disagree} disagree, ${f.summary.skipped} skipped) on kernel ${escapeHtml(f.kernel ?? '?')}.`}
${f.false_pin ? `False pins: the host copies from ${f.false_pin.host_copy_threshold} references, the bias model from ${f.false_pin.bias_model_threshold}, the split word ${escapeHtml(f.false_pin.split)}.` : ''}</p>
${table(['scenario', 'verdict', 'first difference', 'model', 'host', 'stand-ins'], rows, ' id="fidelity-table"')}
</section>`;
}

function runsSection(model) {
  const rows = model.runs.map((r) => ({
    cells: [r.kind, r.id, r.started, r.version ?? '—', r.git_revision, r.host, String(r.cpus), r.compiler,
      { html: `<code>${escapeHtml(r.flags)}</code>` }, r.preset, { html: `<code>${escapeHtml(r.file)}</code>` }],
  }));
  return `<details id="runs"><summary>Run metadata (${model.runs.length} files)</summary>
${table(['kind', 'run', 'started', 'version', 'revision', 'host', 'CPUs', 'compiler', 'flags', 'preset', 'file'], rows, ' id="runs-table"')}
</details>`;
}

const kStyle = `
body { font: 14px/1.35 system-ui, sans-serif; margin: 0 14px 2em; color: #222; }
header { display: flex; align-items: baseline; gap: 1em; margin: 6px 0 4px; }
h1 { margin: 0; font-size: 20px; } header .run { color: #444; }
h2 { border-bottom: 1px solid #ccc; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td small { color: #666; }
code { font-size: 12px; } pre { margin: 0.2em 0; }
.met { color: #1a7f37; } .unmet { color: #c62828; font-weight: bold; }
.badge { padding: 1px 6px; border-radius: 8px; font-size: 12px; }
.badge.met { background: #dff3e4; } .badge.unmet { background: #fde2e1; } .badge.none { background: #eee; }
tr.regression { background: #fff1f0; } tr.improvement { background: #f0fff4; }
.down { color: #c62828; } .up { color: #1a7f37; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; }
.chart { position: relative; height: 280px; min-width: 300px; } .chart.tall { height: 360px; }
.empty { color: #666; }
#verdict { display: flex; flex-direction: column; gap: 6px; }
.tiles { display: grid; gap: 6px; }
.targets-tiles { grid-template-columns: repeat(5, 1fr); }
.tile.wide { grid-column: span 2; }
.health-tiles { grid-template-columns: 1.25fr 2fr 1fr 1fr 1fr 0.85fr; }
.tile { display: flex; flex-direction: column; gap: 1px; padding: 5px 8px; border-radius: 6px;
  border: 1px solid #ccc; border-left-width: 6px; color: inherit; text-decoration: none;
  font-size: 12px; min-width: 0; overflow: hidden; }
.tile:hover { background: #f6f8fa; }
.tile-title { color: #555; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tile-value { font-size: 15px; font-weight: 600; }
.tile-lines { display: flex; flex-direction: column; color: #555; font-size: 11px; overflow-wrap: anywhere; }
.tile.good { border-left-color: #2e9e4f; } .tile.good .tile-value { color: #1a7f37; }
.tile.bad { border-left-color: #d32f2f; } .tile.bad .tile-value { color: #c62828; }
.tile.warn { border-left-color: #e0a100; } .tile.none { border-left-color: #aaa; }
.tile.none .tile-value { color: #666; }
table.mini { margin: 2px 0 0; font-size: 11px; } table.mini th, table.mini td { padding: 0 4px; }
.cell { text-align: center; font-size: 12px; white-space: nowrap; }
.cell.violation { background: #f8c4c4; color: #8b0000; } .cell.copies { background: #fde9b6; }
.cell.clean { background: #cdeccf; } .cell.absent { background: #eee; color: #777; }
span.cell { padding: 0 4px; border-radius: 3px; }
th.scenario { font-weight: normal; } th.pareto { background: #e6ecff; }
.wide { max-width: 100%; overflow-x: auto; }
td.heat { text-align: center; font-variant-numeric: tabular-nums; }
td.heat.fails { outline: 2px solid #b00020; outline-offset: -2px; }
details { margin: 4px 0; } summary { cursor: pointer; }
details.chart-fold { border: 1px solid #eee; padding: 2px 8px; }`;

function headline(model, inputs) {
  const h = model.headline;
  if (!h) return '';
  const more = [];
  if (h.revisions.length > 1) more.push(`${h.revisions.length} revisions`);
  if (h.hosts.length > 1) more.push(`${h.hosts.length} machines`);
  return `<span class="run" id="headline">revision <strong>${escapeHtml(h.revision)}</strong> ·
${escapeHtml(h.host)} (${h.cpus} CPUs, ${escapeHtml(h.compiler)}) · ${escapeHtml(h.started)}
· ${inputs.length} result file(s)${more.length ? ` spanning ${escapeHtml(more.join(' and '))}` : ''}
· <a href="#runs">run metadata</a></span>`;
}

// The complete HTML document for `model`.
export function renderPage(model, inputs) {
  const charts = new ChartList();
  const sections = [
    verdictBoard(model),
    scenarioMapSection(model),
    targetsSection(model, charts),
    historySection(model, charts),
    throughputSection(model, charts),
    changesSection(model),
    fuzzSectionHtml(model, charts),
    stressSectionHtml(model, charts),
    budgetSection(model),
    fidelitySection(model),
    harnessSection(model),
    mutationSection(model),
    kernelSection(model),
    `<section id="metadata"><h2>Run metadata</h2>
<p>Generated ${escapeHtml(model.generated)} from ${inputs.length} file(s).</p>${runsSection(model)}</section>`,
  ].join('\n');
  const chartData = JSON.stringify(charts.specs).replace(/</g, '\\u003c');
  const chartJs = chartJsSource();
  const client = fs.readFileSync(path.join(here, 'client.js'), 'utf8');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pinsplit dashboard</title>
<style>${kStyle}</style></head>
<body data-charts="${charts.specs.length}">
<header><h1>pinsplit</h1>${headline(model, inputs)}</header>
${sections}
<script id="chart-data" type="application/json">${chartData}</script>
<script>/* Chart.js, inlined from ${escapeHtml(path.basename(chartJs.file))} (MIT License) */
${scriptSafe(chartJs.source)}</script>
<script>${scriptSafe(client)}</script>
</body></html>
`;
}
