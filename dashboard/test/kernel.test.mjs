// SPDX-License-Identifier: MIT
// The kernel tile and section: selftests per kernel, model agreement, attacks and cost ratios of
// the newest `./harness kernel` result; "no result" without one; the kind's input checks.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';

import { loadResults } from '../lib/inputs.mjs';
import { buildModel } from '../lib/model.mjs';
import { renderPage } from '../lib/page.mjs';

const fields = (ordinary, read, rw, saturated = false) => ({ word: 0, ordinary, read, rw, saturated });

function kernelDoc(started, { failedCheck = false, costs = true } = {}) {
  const selftests = (fail) => ({
    cow: { exit: 0, pass: 23, fail, skip: 14, error: 0, failed: fail ? ['not ok 3 x'] : [] },
    gup_longterm: { exit: 0, pass: 30, fail: 0, skip: 0, error: 0, failed: [] },
  });
  const fidelity = (policy, agree, total) => ({ policy, summary: { agree, disagree: total - agree,
    skipped: 0, total }, scenarios: [{ scenario: 's.ops', agree: true, stand_ins: [] }] });
  return { file: `kernel-${started}.json`, doc: {
    kind: 'kernel',
    run: { id: started, started, git_revision: 'abc', host: 'h', cpus: 2, compiler: 'gcc 12',
      flags: 'ARCH=um', preset: 'kernel' },
    arch: 'um', layout: [4, 4, 24],
    builds: [{ variant: 'stock', kind: 'stock', wall_s: 850 }, { variant: 'split', kind: 'split', wall_s: 930 }],
    kernels: {
      stock: { selftests: selftests(0), fidelity: fidelity('anon-exclusive', 24, 24), console_warnings: [] },
      split: { selftests: selftests(failedCheck ? 1 : 0), fidelity: fidelity('split', 23, 24),
        console_warnings: [{ during: 'attack ordinary', line: 'page_pin_split: saturated' }] },
    },
    attacks: [
      { kernel: 'stock', attack: 'rw', mechanism: 'io_uring', outcome: 'success: all 23 pins taken',
        at_max: null, after: null, predicted: { attack: 'A1', units: 15, syscalls: 2 } },
      { kernel: 'split', attack: 'rw', mechanism: 'io_uring', outcome: 'refused (EAGAIN) at pin 16',
        at_max: fields(1, 0, 15), after: fields(1, 0, 0), predicted: { attack: 'A1', units: 15, syscalls: 2 } },
      { kernel: 'split', attack: 'ordinary', mechanism: 'vmsplice + tee', outcome: 'saturated after 4198400 references',
        held: fields(12582912, 0, 0, true), after: fields(12582912, 0, 0, true), predicted: null },
    ],
    checks: [{ check: 'rw field: 15 pins, then -EAGAIN', ok: true, detail: '' },
      { check: 'split: selftest cow has no failures', ok: !failedCheck, detail: 'failed: not ok 3' }],
    ...(costs ? { costs: {
      stock: { fork_unpinned_us: 100, cow_fault_us: 2 }, split: { fork_unpinned_us: 103, cow_fault_us: 2 },
      ratio_split_over_stock: { fork_unpinned_us: 1.03, cow_fault_us: 1 } } } : {}),
    findings: { unpin_sites: { total: 123, with_kind: ['a', 'b'], inferred: 121 },
      signed_readers: { count: 38 }, raw_word_readers: ['x'] },
  } };
}

const tileOf = (html) => html.match(/<a class="tile[^"]*"[^>]*data-tile="kernel"[\s\S]*?<\/a>/)[0];
const sectionOf = (html) => html.match(/<section id="kernel">[\s\S]*?<\/section>/)[0];

test('without a kernel trial the tile says no result and the section says how to run one', () => {
  const html = renderPage(buildModel([]), []);
  assert.match(tileOf(html), /no result/);
  assert.match(sectionOf(html), /No kernel trial[\s\S]*\.\/harness kernel/);
});

test('the newest trial gives checks, selftests per kernel, attacks and cost ratios', () => {
  const model = buildModel([kernelDoc('2026-12-01T00:00:00Z', { failedCheck: true }),
    kernelDoc('2026-12-06T00:00:00Z')]);
  assert.equal(model.kernel.run, '2026-12-06T00:00:00Z');
  const html = renderPage(model, ['k']);
  const tile = tileOf(html);
  assert.match(tile, /2 \/ 2 checks hold/);
  assert.match(tile, /class="tile good/);
  assert.match(tile, /stock: selftests 53 pass, 0 fail; split: selftests 53 pass, 0 fail/);
  assert.match(tile, /attacks stopped by split: 2 of 2/);
  const section = sectionOf(html);
  assert.match(section, /<td>split<\/td><td>split<\/td><td class="unmet">23 \/ 24<\/td>/);
  assert.match(section, /refused \(EAGAIN\) at pin 16<\/td><td>R 0 RW 15 ord 1<\/td>/);
  assert.match(section, /<td>fork_unpinned<\/td><td>100.00<\/td><td>103.00<\/td><td>1.030<\/td>/);
  assert.match(section, /123 unpin call sites, 2 changed to name the kind, 121 inferred/);
});

test('a failed check turns the tile bad and opens the checks', () => {
  const html = renderPage(buildModel([kernelDoc('2026-12-06T00:00:00Z', { failedCheck: true, costs: false })]), ['k']);
  assert.match(tileOf(html), /class="tile bad/);
  assert.match(tileOf(html), /1 \/ 2 checks hold/);
  assert.match(sectionOf(html), /<details open>[\s\S]*FAILED/);
  assert.match(sectionOf(html), /No costs in this run/);
});

test('a kernel file missing its attacks is refused with its path', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-'));
  const doc = kernelDoc('2026-12-05T00:00:00Z').doc;
  delete doc.attacks;
  const file = path.join(dir, 'k.json');
  fs.writeFileSync(file, JSON.stringify(doc));
  assert.throws(() => loadResults([file]), (e) => e.message.startsWith(file) && /attacks/.test(e.message));
});
