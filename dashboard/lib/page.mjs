// Renders the page model (model.mjs) into one self-contained HTML document: tables as HTML,
// charts as <canvas> elements drawn by client.js with Chart.js, both inlined, so the file opens
// from disk with no network. Every value from the inputs is HTML-escaped, and the embedded JSON
// cannot close its <script> element.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

class ChartList {
  constructor() {
    this.specs = [];
  }
  canvas(spec) {
    this.specs.push(spec);
    return `<div class="chart"><canvas data-chart="${this.specs.length - 1}" ` +
      `aria-label="${escapeHtml(spec.title)}" role="img"></canvas></div>`;
  }
}

function targetsSection(model, charts) {
  const { targets } = model;
  if (targets.runs.length === 0) {
    return '<section id="targets"><h2>Targets</h2><p class="empty">No bench run among the inputs.</p></section>';
  }
  const headers = ['target', 'goal'];
  targets.runs.forEach((id, i) => headers.push(i === targets.runs.length - 1 ? `${id} (latest)` : id, 'met'));
  const rows = targets.rows.map((row) => ({
    attributes: ` data-target="${escapeHtml(row.name)}"`,
    cells: [row.name, row.goal, ...row.by_run.flatMap((t) => t === null ? ['-', '-'] : [
      { html: `<span class="measured" data-measured="${t.measured ?? ''}">${escapeHtml(formatRatio(t.measured))}</span>` +
        (t.note ? ` <small>${escapeHtml(t.note)}</small>` : '') +
        (t.threads?.length ? ` <small>threads ${escapeHtml(t.threads.join(','))}</small>` : '') },
      metBadge(t.met),
    ])],
  }));
  return `<section id="targets"><h2>Targets</h2>
<p>Throughput ratios measured side by side in one process (bench/report.py): each target's value
is the geometric mean over the thread counts that fit the CPUs. Reported, never asserted.</p>
${table(headers, rows, ' id="targets-table"')}
${targets.chart ? charts.canvas(targets.chart) : ''}</section>`;
}

function runsSection(model) {
  const rows = model.runs.map((r) => ({
    cells: [r.kind, r.id, r.started, r.git_revision, r.host, String(r.cpus), r.compiler,
      { html: `<code>${escapeHtml(r.flags)}</code>` }, r.preset, { html: `<code>${escapeHtml(r.file)}</code>` }],
  }));
  return `<section id="runs"><h2>Runs</h2>
${table(['kind', 'run', 'started', 'revision', 'host', 'CPUs', 'compiler', 'flags', 'preset', 'file'], rows, ' id="runs-table"')}
</section>`;
}

function throughputSection(model, charts) {
  if (!model.throughput) return '';
  const { run, cpus, charts: specs } = model.throughput;
  return `<section id="throughput"><h2>Throughput (run ${escapeHtml(run)})</h2>
<p>Operations per second of all threads together; uncontended: each thread on its own counter
and cache line; contended: every thread on one counter. More threads than the ${cpus} CPUs is
marked oversubscribed: it measures the scheduler, not scaling.</p>
<div class="grid">${specs.map((s) => charts.canvas(s)).join('\n')}</div></section>`;
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
    return `<h3>${escapeHtml(c.before)} &rarr; ${escapeHtml(c.after)}</h3>
<p class="summary"><strong class="${c.regressions ? 'unmet' : ''}">${c.regressions} regression(s)</strong>,
${c.improvements} improvement(s), ${c.untested} untested of ${c.rows.length} benchmarks.</p>
${table(['benchmark', 'before (median)', 'after (median)', 'change', 'repetitions', 'p (U test)', 'method', 'verdict'], rows, ' class="changes"')}`;
  });
  return `<section id="changes"><h2>Changes between runs</h2>
<p>Per benchmark, the median throughput of each run's repetitions and a two-sided Mann-Whitney U
test on them (as Google Benchmark's compare.py): a change is significant when p &lt; ${model.changes[0].alpha};
a significant drop is a <span class="unmet">regression</span>. With fewer than
${model.changes[0].min_repetitions} repetitions a side there is no test ("untested"); 9 are
recommended, and with 3 or fewer a side no p reaches 0.05. Run <code>./harness bench --full</code>
for repetitions.</p>
${parts.join('\n')}</section>`;
}

function compareSectionHtml(model, charts) {
  if (model.compare.length === 0) return '';
  const parts = model.compare.map((c) => {
    const rows = c.policies.map((p) => ({
      cells: [p.policy, ...c.measures.map((m) => ({ text: String(p[m]), cls: m === 'violations' && p[m] > 0 ? 'unmet' : '' })),
        p.first_violation ?? '-'],
    }));
    return `<h3>${escapeHtml(c.scenario)} <small>(run ${escapeHtml(c.run)})</small></h3>
${table(['policy', ...c.measures, 'first violation'], rows, ' class="policies"')}
${charts.canvas(c.chart)}`;
  });
  return `<section id="compare"><h2>Policy comparison</h2>${parts.join('\n')}</section>`;
}

function fuzzSectionHtml(model, charts) {
  if (model.fuzz.length === 0) return '';
  const parts = model.fuzz.map((f) => {
    const rows = f.targets.map((t) => {
      const unexpected = t.crashes.length > 0 && !t.expect_crashes;
      return {
        cells: [t.target, t.policy ?? '-', String(t.seconds), String(t.executions),
          formatRate(t.execs_per_second), String(t.coverage), String(t.features), String(t.corpus_size),
          { text: `${t.crashes.length}${t.expect_crashes ? ' (expected)' : ''}`, cls: unexpected ? 'unmet' : '' },
          String(t.seed)],
      };
    });
    const crashes = f.targets.flatMap((t) => t.crashes.map((c) => `<li><code>${escapeHtml(c.file ?? '')}</code>` +
      `<pre>${escapeHtml(c.decoded ?? '')}</pre></li>`));
    return `<h3>run ${escapeHtml(f.run)}</h3>
${table(['target', 'policy', 'seconds', 'executions', 'execs/s', 'coverage', 'features', 'corpus', 'crashes', 'seed'], rows, ' class="fuzz"')}
${crashes.length ? `<details><summary>crashes</summary><ul>${crashes.join('')}</ul></details>` : ''}
${charts.canvas(f.chart)}`;
  });
  return `<section id="fuzz"><h2>Fuzzing</h2>${parts.join('\n')}</section>`;
}

function stressSectionHtml(model, charts) {
  if (model.stress.length === 0) return '';
  const parts = model.stress.map((s) => {
    const rows = s.storms.map((st) => ({
      cells: [st.storm, st.scheme ?? '-', st.policy ?? '-', String(st.threads), String(st.seconds),
        String(st.operations), formatRate(st.ops_per_second),
        { text: String(st.violations), cls: st.violations > 0 ? 'unmet' : 'met' }, String(st.seed),
        { html: `<code>${escapeHtml(st.replay)}</code>` }],
    }));
    return `<h3>run ${escapeHtml(s.run)}</h3>
${table(['storm', 'scheme', 'policy', 'threads', 'seconds', 'operations', 'ops/s', 'violations', 'seed', 'replay'], rows, ' class="storms"')}
${charts.canvas(s.chart)}`;
  });
  return `<section id="stress"><h2>Storms</h2>${parts.join('\n')}</section>`;
}

const kStyle = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td small { color: #666; }
code { font-size: 12px; } pre { margin: 0.2em 0; }
.met { color: #1a7f37; } .unmet { color: #c62828; font-weight: bold; }
.badge { padding: 1px 6px; border-radius: 8px; font-size: 12px; }
.badge.met { background: #dff3e4; } .badge.unmet { background: #fde2e1; } .badge.none { background: #eee; }
tr.regression { background: #fff1f0; } tr.improvement { background: #f0fff4; }
.down { color: #c62828; } .up { color: #1a7f37; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 12px; }
.chart { position: relative; height: 300px; min-width: 300px; }
.empty { color: #666; }`;

// The complete HTML document for `model`.
export function renderPage(model, inputs) {
  const charts = new ChartList();
  const sections = [
    targetsSection(model, charts),
    runsSection(model),
    throughputSection(model, charts),
    changesSection(model),
    compareSectionHtml(model, charts),
    fuzzSectionHtml(model, charts),
    stressSectionHtml(model, charts),
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
<h1>pinsplit dashboard</h1>
<p>Generated ${escapeHtml(model.generated)} from ${inputs.length} file(s):
${inputs.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ')}.</p>
${sections}
<script id="chart-data" type="application/json">${chartData}</script>
<script>/* Chart.js, inlined from ${escapeHtml(path.basename(chartJs.file))} (MIT License) */
${scriptSafe(chartJs.source)}</script>
<script>${scriptSafe(client)}</script>
</body></html>
`;
}
