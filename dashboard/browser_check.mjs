#!/usr/bin/env node
// The dashboard as a person sees it: builds pages with the real generator from real bench
// result files (one run, then two runs, each with the fuzz, stress and compare fixtures), opens
// each in headless Chromium and checks that
//   - it loads with no console error, page error or network request leaving the file;
//   - every <canvas> holds a Chart.js chart that has drawn (non-blank pixels);
//   - the targets table holds each target's measured ratio and verdict from the input files;
//   - with two runs, the changes table lists every benchmark the runs share;
// and saves a full-page screenshot beside the pages.
//
//   node dashboard/browser_check.mjs --dir DIR     (DIR/runs/*.json from smoke_runs.sh)
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

const dirFlag = process.argv.indexOf('--dir');
if (dirFlag < 0 || !process.argv[dirFlag + 1]) setupError('usage: browser_check.mjs --dir DIR');
const dir = path.resolve(process.argv[dirFlag + 1]);
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
  viewport: { width: 1400, height: 1000 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function checkPage(name, benchFiles) {
  const file = generate(name, [...benchFiles, ...fixtures]);
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
  check(charts.length > 0 && charts.length === declared,
        `${name}: the page has its ${declared} charts (found ${charts.length} canvases)`);
  check(drawn === declared, `${name}: the page script drew ${declared} charts (says ${drawn})`);
  for (const c of charts) {
    check(c.chart && c.datasets > 0, `${name}: chart "${c.title}" is a Chart.js chart with data`);
    // A drawn chart has axes, labels and lines: far more than a few hundred painted pixels.
    check(c.painted > 0.01 * c.width * c.height,
          `${name}: chart "${c.title}" has drawn (${c.painted} of ${c.width}x${c.height} pixels painted)`);
  }

  // The targets table holds every run's measured ratios and verdicts.
  const docs = benchFiles.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  const rows = await page.evaluate(() => Object.fromEntries(
      [...document.querySelectorAll('#targets-table tbody tr')].map((tr) =>
        [tr.dataset.target, [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())])));
  const targetCount = new Set(docs.flatMap((d) => d.targets.map((t) => t.name))).size;
  check(Object.keys(rows).length === targetCount,
        `${name}: the targets table has ${targetCount} rows (found ${Object.keys(rows).length})`);
  docs.forEach((doc, runIndex) => {
    for (const target of doc.targets) {
      const cells = rows[target.name] ?? [];
      const measured = cells[2 + 2 * runIndex] ?? '';
      const verdict = cells[3 + 2 * runIndex] ?? '';
      check(measured.startsWith(`${target.measured.toFixed(3)}x`),
            `${name}: run ${runIndex + 1} "${target.name}" shows ${target.measured.toFixed(3)}x (cell: "${measured}")`);
      check(verdict === (target.met ? 'met' : 'NOT met'),
            `${name}: run ${runIndex + 1} "${target.name}" shows ${target.met ? 'met' : 'NOT met'} (cell: "${verdict}")`);
    }
  });

  // Every run's metadata is on the page.
  const runsText = await page.evaluate(() => document.querySelector('#runs-table').textContent);
  for (const doc of docs) {
    for (const field of ['id', 'git_revision', 'compiler', 'flags', 'host']) {
      check(runsText.includes(doc.run[field]), `${name}: runs table shows ${field} ${doc.run[field]}`);
    }
  }

  const changeRows = await page.evaluate(() => document.querySelectorAll('table.changes tbody tr').length);
  if (docs.length >= 2) {
    const shared = new Set(docs[0].ratios.map((r) => r.benchmark));
    const expected = docs[1].ratios.filter((r) => shared.has(r.benchmark)).length;
    check(changeRows === expected, `${name}: the changes table has ${expected} rows (found ${changeRows})`);
  } else {
    check(changeRows === 0, `${name}: one run has no changes table`);
  }
  for (const section of ['#compare', '#fuzz', '#stress', '#throughput']) {
    check(await page.locator(section).count() === 1, `${name}: the page has its ${section} section`);
  }

  const screenshot = path.join(dir, `${name}.png`);
  await page.screenshot({ path: screenshot, fullPage: true });
  check(fs.statSync(screenshot).size > 10000, `${name}: screenshot saved at ${screenshot}`);
  check(problems.length === 0, `${name}: no console errors or outside requests: ${problems.join('; ')}`);
  await page.close();
  console.log(`${name}: ${charts.length} charts, ${Object.keys(rows).length} targets, ` +
              `${changeRows} change rows; screenshot ${screenshot}`);
}

try {
  await checkPage('dashboard-one-run', runs.slice(-1));
  await checkPage('dashboard-two-runs', runs.slice(-2));
} finally {
  await browser.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
