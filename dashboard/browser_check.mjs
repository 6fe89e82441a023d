#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The dashboard as a person sees it: builds pages with the real generator from real bench
// result files (one run, then two runs, each with the fixtures of every other kind; then one run
// alone, whose other tiles must say "no result"), opens each in headless Chromium at 1366x768
// and checks that
//   - it loads with no console error, page error or network request leaving the file;
//   - the verdict board lies within the first screen (1366x768), every tile has a value, and
//     there is a tile per target plus the health tiles (each named one at least; the page's
//     own health group sets the count, so a new health tile needs no change here);
//   - the scenario map has one cell per scenario x policy of the compare inputs;
//   - every <canvas> holds a Chart.js chart that has drawn (non-blank pixels), folded ones once
//     unfolded;
//   - the targets table holds the latest run's measured ratios and verdicts, the history table
//     every run's;
//   - with two runs, the changes tables list every benchmark the runs share;
// and saves a screenshot of the first screen (NAME-verdict.png) and of the whole page
// (NAME.png) beside the pages.
//
//   node dashboard/browser_check.mjs --dir DIR     (DIR/runs/*.json from smoke_runs.sh)
//       [--results RESULTS --verdict-png FILE]     also a page from a real results folder, its
//                                                  first screen saved to FILE (the README's)
//
// Chromium is Debian's (/usr/bin/chromium, or $PINSPLIT_CHROMIUM), driven by playwright-core.
// Exit status: 0 every check passed, 1 a check failed, 2 missing set-up (named).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dashboardDir = here;
const generator = path.join(dashboardDir, 'generate.mjs');
const chromiumPath = process.env.PINSPLIT_CHROMIUM || '/usr/bin/chromium';

function setupError(message) {
  console.error(`browser_check: ${message}`);
  process.exit(2);
}

function flag(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
if (!flag('--dir')) setupError('usage: browser_check.mjs --dir DIR [--results DIR --verdict-png FILE]');
const dir = path.resolve(flag('--dir'));
const realResults = flag('--results');
const verdictPng = flag('--verdict-png');
if (Boolean(realResults) !== Boolean(verdictPng)) setupError('--results and --verdict-png go together');
const runs = fs.existsSync(path.join(dir, 'runs')) ?
  fs.readdirSync(path.join(dir, 'runs')).filter((f) => f.endsWith('.json')).sort()
      .map((f) => path.join(dir, 'runs', f)) : [];
if (runs.length < 2) setupError(`expected two bench result files in ${dir}/runs (run bench_smoke_runs first)`);
if (!fs.existsSync(chromiumPath)) {
  setupError(`Chromium not found at ${chromiumPath}: install Debian's chromium ` +
             '(./harness test and ./harness dashboard do it through ensure_dashboard_deps)');
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  setupError('playwright-core is not installed: run `npm ci` in dashboard/ ' +
             '(./harness test does it through ensure_dashboard_deps)');
}

let passed = 0;
let failed = 0;
function check(condition, what) {
  if (condition) {
    ++passed;
  } else {
    ++failed;
    console.error(`FAILED: ${what}`);
  }
}

const fixtureDir = path.join(here, 'test', 'fixtures');
const fixtures = fs.readdirSync(fixtureDir).filter((f) => f.endsWith('.json'))
    .map((f) => path.join(fixtureDir, f));
const kViewport = { width: 1366, height: 768 };
// Health tiles beside the targets' that every page must have: safety, fuzzing, storms, budget,
// fidelity, harness speed, mutation kill rate, the kernel trial. The expected tile count is not
// fixed here: it is one per target of the latest bench run plus however many tiles the page's
// health group (.health-tiles) holds, each with a unique id, a value and a link; the page may add
// health tiles beyond this list without this check changing.
const kHealthTiles = ['safety', 'fuzz', 'stress', 'budget', 'fidelity', 'harness', 'mutation',
  'kernel'];

// Every result file under `root` (recursively), parsed.
function jsonUnder(root) {
  return fs.readdirSync(root, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'))
      .flatMap((e) => {
        const full = path.join(root, e.name);
        if (e.isDirectory() && e.name !== 'node_modules') return jsonUnder(full);
        return e.isFile() && e.name.endsWith('.json') ? [JSON.parse(fs.readFileSync(full, 'utf8'))] : [];
      });
}

function generate(name, inputs) {
  const out = path.join(dir, `${name}.html`);
  fs.rmSync(out, { force: true });
  const result = spawnSync(process.execPath, [generator, '--out', out, ...inputs],
                           { encoding: 'utf8' });
  check(result.status === 0, `${name}: generator exits 0 (got ${result.status}: ${result.stderr})`);
  check(result.stdout.trim() === out, `${name}: generator prints the page's path`);
  return out;
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pinsplit-chromium-'));
// A fresh profile (--user-data-dir), which Playwright takes as launchPersistentContext's first
// argument rather than as a flag.
const browser = await chromium.launchPersistentContext(userDataDir, {
  executablePath: chromiumPath,
  headless: true,
  viewport: kViewport,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function checkPage(name, inputs, { absentKinds = [] } = {}) {
  const file = generate(name, inputs);
  const docs = inputs.flatMap((f) => (fs.statSync(f).isDirectory() ? jsonUnder(f) :
    [JSON.parse(fs.readFileSync(f, 'utf8'))]));
  // History copies are the same runs again: one per kind and run id (and scenario).
  const unique = new Map(docs.map((d) => [`${d.kind}/${d.run.id}/${d.scenario ?? ''}/${JSON.stringify(d.storms?.map((s) => s.storm + s.scheme + s.policy) ?? '')}`, d]));
  const benchDocs = [...unique.values()].filter((d) => d.kind === 'bench')
      .sort((a, b) => a.run.started.localeCompare(b.run.started));
  const compareDocs = [...unique.values()].filter((d) => d.kind === 'compare');
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    if (!request.url().startsWith('file:') && !request.url().startsWith('data:')) {
      problems.push(`request leaves the file: ${request.url()}`);
    }
  });
  await page.goto(`file://${file}`, { waitUntil: 'load' });

  // The verdict board answers on the first screen.
  const board = await page.evaluate(() => {
    const box = document.querySelector('#verdict')?.getBoundingClientRect();
    return box ? { top: box.top, bottom: box.bottom, left: box.left, right: box.right,
      scrollWidth: document.documentElement.scrollWidth } : null;
  });
  check(board !== null, `${name}: the page has a verdict board`);
  if (board) {
    check(board.top >= 0 && board.bottom <= kViewport.height,
          `${name}: the verdict board lies within the first ${kViewport.height} pixels (${board.top}..${board.bottom})`);
    check(board.right <= kViewport.width && board.scrollWidth <= kViewport.width,
          `${name}: the verdict board fits ${kViewport.width} pixels across (right ${board.right}, page ${board.scrollWidth})`);
  }
  const tiles = await page.evaluate(() => [...document.querySelectorAll('#verdict .tile')].map((t) => {
    const box = t.getBoundingClientRect();
    return { id: t.dataset.tile, href: t.getAttribute('href'), value: t.querySelector('.tile-value')?.textContent.trim() ?? '',
      bottom: box.bottom, target: Boolean(document.querySelector(t.getAttribute('href'))),
      group: t.closest('.targets-tiles') ? 'targets' : t.closest('.health-tiles') ? 'health' : 'none' };
  }));
  const latestBench = benchDocs.at(-1);
  const targetCount = latestBench ? latestBench.targets.length : 1;
  const targetTiles = tiles.filter((t) => t.group === 'targets');
  const healthTiles = tiles.filter((t) => t.group === 'health');
  check(targetTiles.length === targetCount,
        `${name}: ${targetCount} target tiles (found ${targetTiles.length})`);
  check(healthTiles.length >= kHealthTiles.length,
        `${name}: at least ${kHealthTiles.length} health tiles (found ${healthTiles.length})`);
  check(tiles.length === targetCount + healthTiles.length,
        `${name}: ${targetCount} target + ${healthTiles.length} health tiles and no others (found ${tiles.length})`);
  check(new Set(tiles.map((t) => t.id)).size === tiles.length,
        `${name}: every tile has its own id (${tiles.map((t) => t.id).join(', ')})`);
  for (const t of tiles) {
    check(t.value.length > 0, `${name}: tile ${t.id} has a value`);
    check(t.bottom <= kViewport.height, `${name}: tile ${t.id} is on the first screen (bottom ${t.bottom})`);
    check(t.target, `${name}: tile ${t.id} links to its section (${t.href})`);
  }
  for (const id of kHealthTiles) check(tiles.some((t) => t.id === id), `${name}: a ${id} tile`);
  // 'health': every health tile the page has (a bench run alone answers none of them).
  const absent = absentKinds === 'health' ? healthTiles.map((t) => t.id) : absentKinds;
  for (const kind of absent) {
    const t = tiles.find((x) => x.id === kind);
    check(t?.value === 'no result', `${name}: without ${kind} results its tile says "no result" (${t?.value})`);
  }
  if (latestBench) {
    latestBench.targets.forEach((target, i) => {
      const t = tiles.find((x) => x.id === `target-${i}`);
      const want = target.measured === null ? 'not measured' :
        `${target.measured.toFixed(3)}x ${target.met ? 'met' : 'NOT met'}`;
      check(t?.value === want, `${name}: tile of "${target.name}" says "${want}" (${t?.value})`);
    });
  }

  // The scenario map: one cell per scenario x policy.
  const scenarios = new Set(compareDocs.map((d) => d.scenario));
  const policies = new Set(compareDocs.flatMap((d) => d.policies.map((p) => p.policy)));
  const cells = await page.evaluate(() => [...document.querySelectorAll('#scenario-map-table td.cell')]
      .map((td) => `${td.dataset.scenario}|${td.dataset.policy}`));
  check(cells.length === scenarios.size * policies.size && new Set(cells).size === cells.length,
        `${name}: the scenario map has ${scenarios.size} x ${policies.size} cells (found ${cells.length})`);
  for (const d of compareDocs) {
    for (const p of d.policies) {
      check(cells.includes(`${d.scenario}|${p.policy}`), `${name}: a map cell for ${d.scenario} under ${p.policy}`);
    }
  }

  const verdictShot = path.join(dir, `${name}-verdict.png`);
  await page.screenshot({ path: verdictShot });  // the first screen, as a reader sees it

  // Unfold everything, then every chart must have drawn.
  await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 200))));
  const charts = await page.evaluate(() => [...document.querySelectorAll('canvas')].map((canvas) => {
    const chart = window.Chart && window.Chart.getChart(canvas);
    const { width, height } = canvas;
    let painted = 0;
    if (width > 0 && height > 0) {
      const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) ++painted;
    }
    return { title: canvas.getAttribute('aria-label'), chart: Boolean(chart), width, height,
      painted, datasets: chart ? chart.data.datasets.length : 0 };
  }));
  const declared = await page.evaluate(() => Number(document.body.dataset.charts));
  const drawn = await page.evaluate(() => Number(document.body.dataset.chartsDrawn));
  check(charts.length === declared,
        `${name}: the page has its ${declared} charts (found ${charts.length} canvases)`);
  check(drawn === declared, `${name}: the page script drew ${declared} charts (says ${drawn})`);
  for (const c of charts) {
    check(c.chart && c.datasets > 0, `${name}: chart "${c.title}" is a Chart.js chart with data`);
    // A drawn chart has axes, labels and bars or lines: far more than a few hundred pixels.
    check(c.painted > 0.01 * c.width * c.height,
          `${name}: chart "${c.title}" has drawn (${c.painted} of ${c.width}x${c.height} pixels painted)`);
  }

  // The targets table holds the latest run's measured ratios and verdicts.
  const rows = await page.evaluate(() => Object.fromEntries(
      [...document.querySelectorAll('#targets-table tbody tr')].map((tr) =>
        [tr.dataset.target, [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())])));
  if (latestBench) {
    check(Object.keys(rows).length === latestBench.targets.length,
          `${name}: the targets table has ${latestBench.targets.length} rows (found ${Object.keys(rows).length})`);
    for (const target of latestBench.targets) {
      const cells = rows[target.name] ?? [];
      const shown = target.measured === null ? '-' : `${target.measured.toFixed(3)}x`;
      check((cells[2] ?? '').startsWith(shown),
            `${name}: "${target.name}" shows ${shown} (cell: "${cells[2]}")`);
      const verdict = target.met === null ? 'not measured' : target.met ? 'met' : 'NOT met';
      check(cells[3] === verdict, `${name}: "${target.name}" shows ${verdict} (cell: "${cells[3]}")`);
    }
    // The history table: every run's measured value per target.
    const history = await page.evaluate(() => [...document.querySelectorAll('#history-table tbody tr')]
        .map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
    benchDocs.forEach((doc, runIndex) => {
      for (const target of doc.targets) {
        if (target.measured === null) continue;
        const row = history.find((r) => r[0] === target.name) ?? [];
        check(row[1 + runIndex] === `${target.measured.toFixed(3)}x`,
              `${name}: history shows run ${runIndex + 1} "${target.name}" at ${target.measured.toFixed(3)}x (${row[1 + runIndex]})`);
      }
    });
  }

  // Every run's metadata is on the page, folded.
  const runsText = await page.evaluate(() => document.querySelector('#runs-table').textContent);
  for (const doc of unique.values()) {
    for (const field of ['id', 'git_revision', 'compiler', 'host', ...(doc.run.version ? ['version'] : [])]) {
      check(runsText.includes(doc.run[field]), `${name}: runs table shows ${field} ${doc.run[field]}`);
    }
  }

  const changeRows = await page.evaluate(() => document.querySelectorAll('table.changes tbody tr').length);
  if (benchDocs.length >= 2) {
    let expected = 0;
    for (let i = 1; i < benchDocs.length; ++i) {
      const shared = new Set(benchDocs[i - 1].benchmarks.filter((b) => (b.run_type ?? 'iteration') === 'iteration')
          .map((b) => b.run_name ?? b.name));
      expected += new Set(benchDocs[i].benchmarks.filter((b) => (b.run_type ?? 'iteration') === 'iteration' &&
          typeof b.items_per_second === 'number' && shared.has(b.run_name ?? b.name)).map((b) => b.run_name ?? b.name)).size;
    }
    check(changeRows === expected, `${name}: the changes tables have ${expected} rows (found ${changeRows})`);
  } else {
    check(changeRows === 0, `${name}: one run has no changes table`);
  }
  for (const section of ['#verdict', '#scenario-map', '#targets', '#fuzz', '#stress', '#budget', '#fidelity', '#runs']) {
    check(await page.locator(section).count() === 1, `${name}: the page has its ${section} section`);
  }

  const screenshot = path.join(dir, `${name}.png`);
  await page.screenshot({ path: screenshot, fullPage: true });
  check(fs.statSync(screenshot).size > 10000, `${name}: screenshot saved at ${screenshot}`);
  check(problems.length === 0, `${name}: no console errors or outside requests: ${problems.join('; ')}`);
  await page.close();
  console.log(`${name}: ${tiles.length} tiles, ${cells.length} map cells, ${charts.length} charts, ` +
              `${changeRows} change rows; screenshots ${verdictShot}, ${screenshot}`);
  return verdictShot;
}

try {
  await checkPage('dashboard-one-run', [...runs.slice(-1), ...fixtures]);
  await checkPage('dashboard-two-runs', [...runs.slice(-2), ...fixtures]);
  await checkPage('dashboard-bench-only', runs.slice(-1),
                  { absentKinds: 'health' });
  if (realResults) {
    const shot = await checkPage('dashboard-real', [path.resolve(realResults)]);
    fs.copyFileSync(shot, verdictPng);
    console.log(`first screen of the real results copied to ${verdictPng}`);
  }
} finally {
  await browser.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
