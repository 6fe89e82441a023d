// SPDX-License-Identifier: MIT
// The generator's command line: bad input names the file and exits 2; pages are written
// atomically and escape what the inputs hold.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const generator = path.join(here, '..', 'generate.mjs');
const fixtures = path.join(here, 'fixtures');

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pinsplit-dashboard-test-'));
}

function generate(...args) {
  return spawnSync(process.execPath, [generator, ...args], { encoding: 'utf8' });
}

test('bad inputs exit 2 with an error naming the file', () => {
  const dir = tempDir();
  const out = path.join(dir, 'page.html');
  const cases = {
    'empty.json': ['', 'empty file'],
    'corrupt.json': ['{"kind": "bench", ', 'not valid JSON'],
    'unknown.json': ['{"kind": "weather", "run": {}}', 'unknown kind "weather"'],
    'no-run.json': ['{"kind": "fuzz", "targets": []}', 'missing field run'],
    'bad-field.json': [JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(fixtures, 'stress.json'))),
      storms: [{ storm: 'word' }] }), 'missing field storms[0].scheme'],
  };
  for (const [name, [text, why]] of Object.entries(cases)) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    const result = generate('--out', out, path.join(fixtures, 'fuzz.json'), file);
    assert.equal(result.status, 2, `${name}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`dashboard: error: ${file.replace(/[.]/g, '\\.')}(:\\d+:\\d+)?: `));
    assert.ok(result.stderr.includes(why), `${name}: ${result.stderr}`);
    assert.ok(!fs.existsSync(out), `${name}: no page is written`);
  }
  const missing = generate('--out', out, path.join(dir, 'absent.json'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /absent\.json: cannot read \(no such file\)/);
  assert.equal(generate('--out', out).status, 2, 'no input files');
  assert.equal(generate('--bogus', path.join(fixtures, 'fuzz.json')).status, 2);
  assert.equal(generate('--help').status, 0);
});

test('writes the page atomically, prints its path and replaces an older page', () => {
  const dir = tempDir();
  const out = path.join(dir, 'page.html');
  fs.writeFileSync(out, 'old page');
  const result = generate('--out', out, fixtures);  // a directory stands for its *.json
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), path.resolve(out));
  assert.deepEqual(fs.readdirSync(dir), ['page.html']);  // no temp file left behind
  const html = fs.readFileSync(out, 'utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /Chart\.js v4/);  // inlined, so the page opens offline
  assert.doesNotMatch(html, /<script[^>]+src=/);  // nothing loaded from elsewhere
  assert.ok(html.includes('scenarios/mm/vmsplice_leak.ops'));
  assert.ok(html.includes('line 9: isolation: child reads parent&#39;s later write'));
  assert.ok(html.includes('ASAN_OPTIONS of these runs: <code>detect_leaks=1:quarantine_size_mb=32</code>'));
});

test('input text cannot inject markup or close the embedded JSON', () => {
  const dir = tempDir();
  const doc = JSON.parse(fs.readFileSync(path.join(fixtures, 'fuzz.json'), 'utf8'));
  doc.targets[0].target = '</script><img src=x onerror=alert(1)>';  // a tile, a table, a chart
  doc.targets[1].asan_options = '<img src=x onerror=alert(2)>';
  const file = path.join(dir, 'evil.json');
  fs.writeFileSync(file, JSON.stringify(doc));
  const out = path.join(dir, 'page.html');
  assert.equal(generate('--out', out, file).status, 0);
  const html = fs.readFileSync(out, 'utf8');
  assert.ok(!html.includes('<img src=x'));
  assert.ok(html.includes('&lt;/script&gt;&lt;img src=x'));
  assert.ok(html.includes('<code>&lt;img src=x onerror=alert(2)&gt;</code>'));
  assert.ok(html.includes('\\u003c/script>\\u003cimg src=x'));
});

test('a directory stands for its visible .json files, not the temp files of a run', () => {
  const dir = tempDir();
  fs.copyFileSync(path.join(fixtures, 'fuzz.json'), path.join(dir, 'fuzz.json'));
  fs.writeFileSync(path.join(dir, '.raw-abc123.json'), '{"half a run');
  fs.writeFileSync(path.join(dir, 'console.txt'), 'not a result');
  const out = path.join(dir, 'out', 'page.html');
  const result = generate('--out', out, dir);
  assert.equal(result.status, 0, result.stderr);
  assert.ok(fs.readFileSync(out, 'utf8').includes('refcount_ops'));
  const empty = tempDir();
  const none = generate('--out', out, empty);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /directory holds no \.json file/);
});

test('a timings record (./harness test --timings) is read and listed with its version', () => {
  const dir = tempDir();
  const record = path.join(dir, 'test-timings.json');
  fs.writeFileSync(record, JSON.stringify({
    kind: 'timings', command: 'test', status: 0, total_seconds: 650.2,
    conditions: { packages_installed_during_run: [], fresh_build_dirs: ['asan'] },
    phases: [{ name: 'build asan', depth: 0, started: '2026-12-05T21:00:00Z', seconds: 300, status: 0 }],
    run: { id: 'timings-run-1', started: '2026-12-05T21:00:00Z', version: '9.8.7',
      git_revision: 'abc1234', host: 'h', cpus: 2, compiler: 'clang 14.0.6', flags: '',
      preset: 'asan+tsan' } }));
  const out = path.join(dir, 'page.html');
  const result = generate('--out', out, path.join(fixtures, 'fuzz.json'), record);
  assert.equal(result.status, 0, result.stderr);
  const html = fs.readFileSync(out, 'utf8');
  assert.ok(html.includes('timings-run-1') && html.includes('9.8.7'), 'run metadata row');
  // A phase without its seconds is refused like any other missing field.
  const bad = JSON.parse(fs.readFileSync(record, 'utf8'));
  delete bad.phases[0].seconds;
  fs.writeFileSync(record, JSON.stringify(bad));
  const refused = generate('--out', out, record);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /phases\[0\]\.seconds/);
});
