// SPDX-License-Identifier: MIT
// The mutation tile and section: the kill rate per area and the survivors of the newest
// `./harness mutate` result, "no result" when there is none, and the input checks of the kind.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';

import { loadResults } from '../lib/inputs.mjs';
import { buildModel } from '../lib/model.mjs';
import { renderPage } from '../lib/page.mjs';

function mutationDoc(started, killRate, survivors) {
  const mutants = [
    { id: 'split-get-edge', area: 'counters', file: 'core/pinsplit/split_refcount.h', line: 157,
      kind: 'operator', outcome: 'killed', why: 'an edge', detail: 'SplitRefcountTest.X (Failed)' },
    ...survivors.map((id, i) => ({ id, area: 'budget', file: 'budget/x.cc', line: 10 + i,
      kind: 'constant', outcome: 'survived', why: 'a constant moves', detail: '' })),
  ];
  return { file: `mutation-${started}.json`, doc: {
    kind: 'mutation',
    run: { id: started, started, git_revision: 'abc', host: 'h', cpus: 2, compiler: 'c',
      flags: 'f', preset: 'mutate' },
    seed: 1, interrupted: false, kill_rate: killRate,
    areas: [{ area: 'counters', mutants: 1, killed: 1, survived: 0, invalid: 0, kill_rate: 1 },
      { area: 'budget', mutants: survivors.length + 1, killed: 1, survived: survivors.length,
        invalid: 0, kill_rate: 1 / (survivors.length + 1) }],
    mutants,
  } };
}

const tileOf = (html) => html.match(/<a class="tile[^"]*"[^>]*data-tile="mutation"[\s\S]*?<\/a>/)[0];

test('without a mutation result the tile says no result and the section says how to get one', () => {
  const html = renderPage(buildModel([]), []);
  assert.match(tileOf(html), /no result/);
  assert.match(html, /<section id="mutation">[\s\S]*?No mutation result[\s\S]*?\.\/harness mutate/);
});

test('the newest mutation run gives the kill rate per area, and its survivors are marked', () => {
  const old = mutationDoc('2026-12-01T00:00:00Z', 0.5, ['a', 'b']);
  const newer = mutationDoc('2026-12-05T00:00:00Z', 0.75, ['pte-bytes']);
  const model = buildModel([newer, old]);
  assert.equal(model.mutation.kill_rate, 0.75);
  assert.deepEqual(model.mutation.survivors.map((m) => m.id), ['pte-bytes']);
  const html = renderPage(model, ['a', 'b']);
  const tile = tileOf(html);
  assert.match(tile, /75% killed/);
  assert.match(tile, /counters 100%, budget 50%/);
  assert.match(tile, /1 survivor/);
  assert.match(tile, /class="tile bad/);
  assert.match(html, /<tr class="unmet"><td>pte-bytes<\/td>/);
  const clean = renderPage(buildModel([mutationDoc('2026-12-06T00:00:00Z', 1, [])]), ['c']);
  assert.match(tileOf(clean), /class="tile good/);
});

test('a mutation file missing its areas is refused with its path', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mutation-'));
  const doc = mutationDoc('2026-12-05T00:00:00Z', 1, []).doc;
  delete doc.areas;
  const file = path.join(dir, 'm.json');
  fs.writeFileSync(file, JSON.stringify(doc));
  assert.throws(() => loadResults([file]), /m\.json: missing field .*areas/);
  fs.rmSync(dir, { recursive: true });
});
