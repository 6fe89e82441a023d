// SPDX-License-Identifier: MIT
// Hostile input and failing outputs (issue 9), table-driven: every bad input file and every odd
// --out exits 2 with a one-line error naming the path and the reason (never a stack trace),
// leaves no temp file, and never replaces a device, FIFO or symlink. CTest label: robustness.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const generator = path.join(root, 'dashboard', 'generate.mjs');
const fixtures = path.join(here, 'fixtures');
const fuzzFixture = path.join(fixtures, 'fuzz.json');
const fuzzText = fs.readFileSync(fuzzFixture, 'utf8');
const budgetDoc = JSON.parse(fs.readFileSync(path.join(fixtures, 'budget.json'), 'utf8'));

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pinsplit-dashboard-robust-'));
}

function generate(args, options = {}) {
  return spawnSync(process.execPath, [generator, ...args], { encoding: 'utf8', ...options });
}

// Names of temp files (ours are ".NAME.PID.tmp") anywhere under dir.
function tempFiles(dir) {
  return fs.readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.tmp'));
}

function assertCleanError(result, pattern, what) {
  assert.equal(result.status, 2, `${what}: exit 2 (got ${result.status}): ${result.stderr}`);
  assert.match(result.stderr, pattern, what);
  assert.doesNotMatch(result.stderr, /^\s+at /m, `${what}: no stack trace`);
  assert.ok(result.stderr.length < 600, `${what}: a short message (${result.stderr.length} chars)`);
}

// Bad input files: [name, contents, what the error must say].
const kBadInputs = [
  ['empty', '', /: empty file/],
  ['blank', ' \n\t\n', /: empty file/],
  ['bom', `\ufeff${fuzzText}`, /: starts with a UTF-8 byte order mark \(EF BB BF\)/],
  ['truncated', '{"kind": "fuzz",\n "run": {', /:2:10: not valid JSON/],
  ['trailing comma', '{"kind": "fuzz",\n  "targets": [],\n}', /:3:1: not valid JSON/],
  ['not an object', '[1, 2]', /: not a JSON object/],
  ['no kind', '{"run": {}}', /: missing field "kind"/],
  ['kind not a string', '{"kind": 7}', /: missing field "kind"/],
  ['unknown kind', '{"kind": "weather", "run": {}}', /: unknown kind "weather" \(expected one of /],
  ['prototype kind', '{"kind": "constructor", "run": {}}', /: unknown kind "constructor"/],
  ['huge unknown kind', JSON.stringify({ kind: 'x'.repeat(1 << 20) }),
    /unknown kind "x{80}\.\.\. \(1048576 characters\)"/],
  ['no run', '{"kind": "fuzz", "targets": []}', /: missing field run/],
  ['mistyped field', fuzzText.replace('"executions": 912345', '"executions": "many"'),
    /: targets\[0\]\.executions should be number, not string/],
  ['budget result not an object', JSON.stringify({ ...budgetDoc,
    workloads: [{ name: 'w', results: [7] }] }), /: workloads\[0\]\.results\[0\] is not an object/],
  ['budget result missing a field', JSON.stringify({ ...budgetDoc,
    workloads: [{ name: 'w', results: [{ layout: '4/4/24', read_refusal: 0.1 }] }] }),
    /: missing field workloads\[0\]\.results\[0\]\.write_refusal/],
  ['fidelity without summary', JSON.stringify({ kind: 'fidelity', run: budgetDoc.run,
    scenarios: [], skipped: null }), /: missing field fidelity\.summary/],
];

test('bad input files exit 2 naming the file and the reason, writing nothing', () => {
  const dir = tempDir();
  const out = path.join(dir, 'page.html');
  for (const [name, text, why] of kBadInputs) {
    const file = path.join(dir, `${name.replace(/ /g, '-')}.json`);
    fs.writeFileSync(file, text);
    const result = generate(['--out', out, fuzzFixture, file]);
    assertCleanError(result, new RegExp(`^dashboard: error: ${file.replace(/[.]/g, '\\.')}[:]`), name);
    assert.match(result.stderr, why, name);
    assert.ok(!fs.existsSync(out), `${name}: no page is written`);
    assert.deepEqual(tempFiles(dir), [], `${name}: no temp file`);
    fs.rmSync(file);
  }
});

test('bad paths and flags exit 2 with a clear message', () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'empty'));
  fs.mkdirSync(path.join(dir, 'deep', 'er'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'deep', 'er', 'notes.txt'), 'not a result');
  const out = path.join(dir, 'page.html');
  const cases = [
    ['missing file', ['--out', out, path.join(dir, 'absent.json')], /absent\.json: cannot read \(no such file\)/],
    ['folder without results', ['--out', out, path.join(dir, 'empty')], /empty: directory holds no \.json file/],
    ['nested folder without results', ['--out', out, path.join(dir, 'deep')], /deep: directory holds no \.json file/],
    ['no inputs', ['--out', out], /no input files/],
    ['unknown flag', ['--bogus', fuzzFixture], /unknown flag --bogus/],
    ['--out without a value', [fuzzFixture, '--out'], /--out needs a value/],
    ['--out= empty', ['--out=', fuzzFixture], /--out needs a value/],
  ];
  for (const [name, args, why] of cases) assertCleanError(generate(args), why, name);
});

// Odd --out targets: [name, set-up returning {out, check}, expected exit, what stderr says].
const kOutputs = [
  ['a directory', (dir) => {
    const out = path.join(dir, 'pages');
    fs.mkdirSync(out);
    return { out, check: () => assert.deepEqual(fs.readdirSync(out), []) };
  }, 2, /--out .*pages: is a directory; --out names the page's file, e\.g\. .*pages\/dashboard\.html/],
  ['a directory with a trailing slash', (dir) => {
    fs.mkdirSync(path.join(dir, 'pages'));
    return { out: `${path.join(dir, 'pages')}/`, check: () => {} };
  }, 2, /is a directory/],
  ['a path under a regular file', (dir) => {
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    return { out: path.join(dir, 'file', 'page.html'),
      check: () => assert.equal(fs.readFileSync(path.join(dir, 'file'), 'utf8'), 'x') };
  }, 2, /--out .*file\/page\.html: a path component is not a directory/],
  ['a missing folder', (dir) => ({ out: path.join(dir, 'new', 'sub', 'page.html'),
    check: () => assert.match(fs.readFileSync(path.join(dir, 'new', 'sub', 'page.html'), 'utf8'), /^<!DOCTYPE html>/) }),
  0, /^$/],
  ['a regular file, replaced', (dir) => {
    const out = path.join(dir, 'page.html');
    fs.writeFileSync(out, 'old page');
    const inode = fs.statSync(out).ino;
    return { out, check: () => {
      assert.match(fs.readFileSync(out, 'utf8'), /^<!DOCTYPE html>/);
      assert.notEqual(fs.statSync(out).ino, inode, 'replaced by a rename, not rewritten');
    } };
  }, 0, /^$/],
  ['a symlink to a file: the target is written, the link stays', (dir) => {
    const target = path.join(dir, 'real.html');
    fs.writeFileSync(target, 'old');
    const out = path.join(dir, 'link.html');
    fs.symlinkSync('real.html', out);
    return { out, check: () => {
      assert.ok(fs.lstatSync(out).isSymbolicLink());
      assert.equal(fs.readlinkSync(out), 'real.html');
      assert.match(fs.readFileSync(target, 'utf8'), /^<!DOCTYPE html>/);
    } };
  }, 0, /^$/],
  ['a dangling symlink: its target is created', (dir) => {
    const out = path.join(dir, 'link.html');
    fs.symlinkSync('made.html', out);
    return { out, check: () => {
      assert.ok(fs.lstatSync(out).isSymbolicLink());
      assert.match(fs.readFileSync(path.join(dir, 'made.html'), 'utf8'), /^<!DOCTYPE html>/);
    } };
  }, 0, /^$/],
  ['a symlink to a directory', (dir) => {
    fs.mkdirSync(path.join(dir, 'pages'));
    const out = path.join(dir, 'link');
    fs.symlinkSync('pages', out);
    return { out, check: () => assert.ok(fs.lstatSync(out).isSymbolicLink()) };
  }, 2, /pages: is a directory/],
  ['a symlink loop', (dir) => {
    const out = path.join(dir, 'a');
    fs.symlinkSync('b', out);
    fs.symlinkSync('a', path.join(dir, 'b'));
    return { out, check: () => assert.ok(fs.lstatSync(out).isSymbolicLink()) };
  }, 2, /too many symbolic links/],
  ['/dev/null, written in place', () => ({ out: '/dev/null',
    check: () => assert.ok(fs.statSync('/dev/null').isCharacterDevice()) }), 0, /^$/],
  ['/dev/full, in place and failing', () => ({ out: '/dev/full',
    check: () => assert.ok(fs.statSync('/dev/full').isCharacterDevice()) }),
  2, /cannot write \/dev\/full \(no space left on device\)/],
];

test('--out: files replaced atomically, links followed, devices written in place, directories refused', () => {
  for (const [name, setUp, status, stderr] of kOutputs) {
    const dir = tempDir();
    const { out, check } = setUp(dir);
    const result = generate(['--out', out, fixtures]);
    assert.equal(result.status, status, `${name}: exit ${status} (got ${result.status}): ${result.stderr}`);
    assert.match(result.stderr, stderr, name);
    assert.doesNotMatch(result.stderr, /^\s+at /m, `${name}: no stack trace`);
    if (status === 0 && out !== '/dev/null') assert.equal(result.stdout.trim(), path.resolve(out), name);
    check();
    assert.deepEqual(tempFiles(dir), [], `${name}: no temp file left`);
  }
});

test('--out=- writes the page to standard output and prints no path', () => {
  const result = generate(['--out=-', fuzzFixture]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^<!DOCTYPE html>[\s\S]*<\/html>\n$/);
});

test('--out naming a FIFO writes into it and leaves it a FIFO', async () => {
  const dir = tempDir();
  const fifo = path.join(dir, 'pipe');
  const made = spawnSync('mkfifo', [fifo]);
  assert.equal(made.status, 0, 'mkfifo works');
  const reader = spawn('cat', [fifo]);
  let read = '';
  reader.stdout.on('data', (chunk) => { read += chunk; });
  const done = new Promise((resolve) => reader.on('close', resolve));
  const writer = spawn(process.execPath, [generator, '--out', fifo, fuzzFixture]);
  const status = await new Promise((resolve) => writer.on('close', resolve));
  if (status !== 0) reader.kill();  // a writer that never opened the FIFO would leave cat waiting
  await done;
  assert.equal(status, 0);
  assert.match(read, /^<!DOCTYPE html>/);
  assert.ok(fs.lstatSync(fifo).isFIFO(), 'still a FIFO');
  assert.deepEqual(tempFiles(dir), []);
});

test('a folder is read recursively, hidden entries skipped, history copies read once', () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'fuzz'));
  fs.mkdirSync(path.join(dir, 'history', 'run-1', 'fuzz'), { recursive: true });
  fs.mkdirSync(path.join(dir, '.partial'));
  fs.copyFileSync(fuzzFixture, path.join(dir, 'fuzz', 'run.json'));
  fs.copyFileSync(fuzzFixture, path.join(dir, 'history', 'run-1', 'fuzz', 'run.json'));
  fs.copyFileSync(path.join(fixtures, 'compare.json'), path.join(dir, 'history', 'run-1', 'compare.json'));
  fs.writeFileSync(path.join(dir, '.partial', 'broken.json'), '{"half');
  fs.writeFileSync(path.join(dir, '.raw-123.json'), '{"half');
  const out = path.join(dir, 'page.html');
  const result = generate(['--out', out, dir]);
  assert.equal(result.status, 0, result.stderr);
  const html = fs.readFileSync(out, 'utf8');
  assert.match(html, /from 2 file\(s\)/, 'the copy in history/ is the same file: read once');
  assert.ok(html.includes('vmsplice_leak.ops'), 'a file two folders down is read');
});

test('./harness dashboard with no argument reads results/ recursively', () => {
  const results = tempDir();
  fs.mkdirSync(path.join(results, 'history', 'run-1'), { recursive: true });
  fs.copyFileSync(path.join(fixtures, 'stress.json'), path.join(results, 'history', 'run-1', 'stress.json'));
  const env = { ...process.env, PINSPLIT_RESULTS: results };
  const result = spawnSync(path.join(root, 'harness'), ['dashboard'], { encoding: 'utf8', env });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), path.join(results, 'dashboard.html'));
  assert.ok(fs.readFileSync(path.join(results, 'dashboard.html'), 'utf8').includes('mm / mapcount'));
  // Again: the page it wrote is not an input (not .json), and the result is the same.
  assert.equal(spawnSync(path.join(root, 'harness'), ['dashboard'], { encoding: 'utf8', env }).status, 0);
  const missing = spawnSync(path.join(root, 'harness'), ['dashboard'], { encoding: 'utf8',
    env: { ...process.env, PINSPLIT_RESULTS: path.join(results, 'absent') } });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no .*absent folder yet: run \.\/harness run/);
});
