// SPDX-License-Identifier: MIT
// Reads pinsplit result files (docs/results-format.md) and checks them before anything is drawn.
//
// Guarantees: loadResults either returns every file parsed and checked, or throws an InputError
// whose message starts with the offending file's path and says what is wrong with it (cannot be
// read, empty, a byte order mark, not JSON with its line:column, unknown kind, a missing or
// mistyped field with its JSON path). A directory argument stands for the *.json files anywhere
// under it, in path order, leaving out hidden files and folders (temp files of a run in
// progress) and node_modules. Files with the same bytes (a run's copy in results/history/) are
// read once.
import fs from 'node:fs';
import path from 'node:path';

export class InputError extends Error {}

const kRunFields = {
  id: 'string', started: 'string', git_revision: 'string', host: 'string', cpus: 'number',
  compiler: 'string', flags: 'string', preset: 'string', version: 'string?optional',
};

// Field types per kind; 'number?' and 'string?' also accept null; a trailing 'optional' lets
// the field be absent (files written before it existed).
const kSchemas = {
  bench: {
    top: { context: 'object', benchmarks: 'array', ratios: 'array', targets: 'array' },
    lists: {
      ratios: {
        benchmark: 'string', scheme: 'string?', operation: 'string', mode: 'string?',
        threads: 'number', items_per_second: 'number', plain_items_per_second: 'number?',
        ratio_to_plain: 'number?', oversubscribed: 'boolean',
      },
      targets: {
        name: 'string', goal: 'string', threshold: 'number', measured: 'number?',
        met: 'boolean?',
      },
      benchmarks: { name: 'string' },
    },
  },
  fuzz: {
    top: { targets: 'array' },
    lists: {
      targets: {
        target: 'string', policy: 'string?', seconds: 'number', executions: 'number',
        execs_per_second: 'number', coverage: 'number', features: 'number',
        corpus_size: 'number', crashes: 'array', expect_crashes: 'boolean', seed: 'number',
        time_to_first_crash_seconds: 'number?optional', from_seeds: 'boolean?optional',
        workers: 'number?optional', execs_per_second_total: 'number?optional',
        asan_options: 'string?optional',
      },
    },
  },
  stress: {
    top: { storms: 'array' },
    lists: {
      storms: {
        storm: 'string', scheme: 'string?', policy: 'string?', threads: 'number',
        seconds: 'number', operations: 'number', ops_per_second: 'number',
        violations: 'number', seed: 'number', replay: 'string',
        sanitizer_reports: 'number?optional', cpus: 'number?optional',
        mm_variant: 'string?optional',
      },
    },
  },
  budget: {
    top: { target: 'number', layouts: 'array', workloads: 'array', attacks: 'array',
      verdict: 'object' },
    lists: {
      workloads: { name: 'string', results: 'array' },
      attacks: { attack: 'string', field: 'string', layout: 'string', mitigation: 'string' },
    },
    nested: {
      workloads: {
        results: { layout: 'string', read_refusal: 'number', write_refusal: 'number',
          meets_target: 'boolean' },
      },
    },
  },
  fidelity: {
    top: { scenarios: 'array', summary: 'object', skipped: 'string?' },
    lists: {
      scenarios: { scenario: 'string', agree: 'boolean?', skipped: 'string?',
        first_difference: 'object?' },
    },
  },
  // ./harness kernel: Linux 6.12 stock and split in UML, the same trial in both (docs/kernel.md).
  kernel: {
    top: { layout: 'array', builds: 'array', kernels: 'object', attacks: 'array',
      checks: 'array', costs: 'object?optional', findings: 'object?optional' },
    lists: {
      builds: { variant: 'string', kind: 'string', wall_s: 'number' },
      attacks: { kernel: 'string', attack: 'string', outcome: 'string' },
      checks: { check: 'string', ok: 'boolean' },
    },
  },
  // ./harness mutate: the project's own mutation check (kill rate per area, the survivors).
  mutation: {
    top: { seed: 'number', interrupted: 'boolean', kill_rate: 'number?', areas: 'array',
      mutants: 'array' },
    lists: {
      areas: { area: 'string', mutants: 'number', killed: 'number', survived: 'number',
        invalid: 'number', kill_rate: 'number?' },
      mutants: { id: 'string', area: 'string', file: 'string', line: 'number', kind: 'string',
        outcome: 'string' },
    },
  },
  // ./harness test|run --timings: each phase's wall seconds (shown with the run metadata).
  timings: {
    top: { command: 'string', total_seconds: 'number', status: 'number', phases: 'array' },
    lists: {
      phases: { name: 'string', depth: 'number', seconds: 'number', status: 'number' },
    },
  },
  compare: {
    top: { scenario: 'string', policies: 'array' },
    lists: {
      policies: {
        policy: 'string', violations: 'number', copies_at_fork: 'number',
        copies_at_fault: 'number', unshares: 'number', pins_refused: 'number',
        false_maybe_pinned: 'number', copies_beyond_ideal: 'number',
        first_violation: 'string?',
      },
    },
  },
};

export const kKinds = Object.keys(kSchemas);

function typeOf(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function check(object, fields, where, file) {
  for (const [field, spec] of Object.entries(fields)) {
    const optional = spec.endsWith('optional');
    const wanted = optional ? spec.slice(0, -'optional'.length) : spec;
    const nullable = wanted.endsWith('?');
    const type = nullable ? wanted.slice(0, -1) : wanted;
    if (!(field in object)) {
      if (optional) continue;
      throw new InputError(`${file}: missing field ${where}.${field}`);
    }
    const actual = typeOf(object[field]);
    if (actual === type || (nullable && actual === 'null')) {
      if (type === 'number' && actual === 'number' && !Number.isFinite(object[field])) {
        throw new InputError(`${file}: ${where}.${field} is not a finite number`);
      }
      continue;
    }
    throw new InputError(
        `${file}: ${where}.${field} should be ${nullable ? type + ' or null' : type}, ` +
        `not ${actual}`);
  }
}

// Parses and checks one result file's text; `file` names it in errors.
// Line and column (1-based) of character `offset` in `text`.
function lineColumn(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `${line}:${offset - before.lastIndexOf('\n')}`;
}

// Keeps error messages short whatever the input holds.
function clip(value, limit = 80) {
  const text = String(value);
  return text.length > limit ? `${text.slice(0, limit)}... (${text.length} characters)` : text;
}

export function parseResult(text, file) {
  if (text.charCodeAt(0) === 0xfeff) {
    throw new InputError(`${file}: starts with a UTF-8 byte order mark (EF BB BF); ` +
                         'result files are plain UTF-8: save it without the BOM');
  }
  if (text.trim() === '') throw new InputError(`${file}: empty file`);
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    // V8 says "... in JSON at position N" (Node 18-20) or "(line L column C)" (Node 21+).
    const position = /at position (\d+)/.exec(error.message);
    const lineCol = /\(line (\d+) column (\d+)\)/.exec(error.message);
    const where = position ? `${lineColumn(text, Number(position[1]))}: ` :
      lineCol ? `${lineCol[1]}:${lineCol[2]}: ` : '';
    throw new InputError(`${file}:${where ? where.slice(0, -2) : ''}: not valid JSON ` +
                         `(${clip(error.message, 160)})`);
  }
  if (typeOf(doc) !== 'object') throw new InputError(`${file}: not a JSON object`);
  if (typeof doc.kind !== 'string') throw new InputError(`${file}: missing field "kind"`);
  const schema = Object.hasOwn(kSchemas, doc.kind) ? kSchemas[doc.kind] : undefined;
  if (!schema) {
    throw new InputError(
        `${file}: unknown kind "${clip(doc.kind)}" (expected one of ${kKinds.join(', ')})`);
  }
  if (typeOf(doc.run) !== 'object') throw new InputError(`${file}: missing field run`);
  check(doc, { run: 'object' }, '', file);
  check(doc.run, kRunFields, 'run', file);
  check(doc, schema.top, doc.kind, file);
  for (const [list, fields] of Object.entries(schema.lists)) {
    doc[list].forEach((item, i) => {
      if (typeOf(item) !== 'object') throw new InputError(`${file}: ${list}[${i}] is not an object`);
      check(item, fields, `${list}[${i}]`, file);
      for (const [inner, innerFields] of Object.entries(schema.nested?.[list] ?? {})) {
        check(item, { [inner]: 'array' }, `${list}[${i}]`, file);
        item[inner].forEach((entry, j) => {
          const where = `${list}[${i}].${inner}[${j}]`;
          if (typeOf(entry) !== 'object') throw new InputError(`${file}: ${where} is not an object`);
          check(entry, innerFields, where, file);
        });
      }
    });
  }
  return doc;
}

// The *.json files under `dir` (recursively), in path order, leaving out hidden entries and
// node_modules.
function jsonFilesUnder(dir) {
  const found = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true })
      .filter((e) => !e.name.startsWith('.') && e.name !== 'node_modules')
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    let isDir = entry.isDirectory();
    if (entry.isSymbolicLink()) {
      try {
        isDir = fs.statSync(full).isDirectory();
      } catch {
        isDir = false;
      }
      if (isDir) continue;  // never follow a link into a folder: it may loop
    }
    if (isDir) {
      found.push(...jsonFilesUnder(full));
    } else if (entry.name.endsWith('.json')) {
      found.push(full);
    }
  }
  return found;
}

function cannotRead(file, error) {
  const why = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'a directory' };
  return new InputError(`${file}: cannot read (${why[error.code] ?? error.message})`);
}

// Expands directories into the *.json files under them.
export function expandInputs(args) {
  const files = [];
  for (const arg of args) {
    let stat;
    try {
      stat = fs.statSync(arg);
    } catch (error) {
      throw cannotRead(arg, error);
    }
    if (stat.isDirectory()) {
      let inside;
      try {
        inside = jsonFilesUnder(arg);
      } catch (error) {
        throw cannotRead(error.path ?? arg, error);
      }
      if (inside.length === 0) throw new InputError(`${arg}: directory holds no .json file`);
      files.push(...inside);
    } else {
      files.push(arg);
    }
  }
  return files;
}

// Returns [{file, doc}] for every input, or throws an InputError naming the first bad file.
// A file whose bytes equal an earlier one's is skipped (history copies of a run).
export function loadResults(args) {
  if (args.length === 0) throw new InputError('no input files');
  const seen = new Set();
  const results = [];
  for (const file of expandInputs(args)) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw cannotRead(file, error);
    }
    const doc = parseResult(text, file);
    if (seen.has(text)) continue;
    seen.add(text);
    results.push({ file, doc });
  }
  return results;
}
