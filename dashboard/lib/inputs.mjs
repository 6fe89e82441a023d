// Reads pinsplit result files (docs/results-format.md) and checks them before anything is drawn.
//
// Guarantees: loadResults either returns every file parsed and checked, or throws an InputError
// whose message starts with the offending file's path and says what is wrong with it (cannot be
// read, empty, not JSON, unknown kind, a missing or mistyped field with its JSON path). A
// directory argument stands for the *.json files directly inside it, in name order, leaving out
// hidden ones (temp files of a run in progress).
import fs from 'node:fs';
import path from 'node:path';

export class InputError extends Error {}

const kRunFields = {
  id: 'string', started: 'string', git_revision: 'string', host: 'string', cpus: 'number',
  compiler: 'string', flags: 'string', preset: 'string',
};

// Field types per kind; 'number?' and 'string?' also accept null.
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
      },
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
  for (const [field, wanted] of Object.entries(fields)) {
    const nullable = wanted.endsWith('?');
    const type = nullable ? wanted.slice(0, -1) : wanted;
    if (!(field in object)) throw new InputError(`${file}: missing field ${where}.${field}`);
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
export function parseResult(text, file) {
  if (text.trim() === '') throw new InputError(`${file}: empty file`);
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${file}: not valid JSON (${error.message})`);
  }
  if (typeOf(doc) !== 'object') throw new InputError(`${file}: not a JSON object`);
  if (typeof doc.kind !== 'string') throw new InputError(`${file}: missing field "kind"`);
  const schema = kSchemas[doc.kind];
  if (!schema) {
    throw new InputError(
        `${file}: unknown kind "${doc.kind}" (expected one of ${kKinds.join(', ')})`);
  }
  if (typeOf(doc.run) !== 'object') throw new InputError(`${file}: missing field run`);
  check(doc, { run: 'object' }, '', file);
  check(doc.run, kRunFields, 'run', file);
  check(doc, schema.top, doc.kind, file);
  for (const [list, fields] of Object.entries(schema.lists)) {
    doc[list].forEach((item, i) => {
      if (typeOf(item) !== 'object') throw new InputError(`${file}: ${list}[${i}] is not an object`);
      check(item, fields, `${list}[${i}]`, file);
    });
  }
  return doc;
}

// Expands directories into their *.json files.
export function expandInputs(args) {
  const files = [];
  for (const arg of args) {
    let stat;
    try {
      stat = fs.statSync(arg);
    } catch (error) {
      throw new InputError(`${arg}: cannot read (${error.code === 'ENOENT' ? 'no such file' : error.message})`);
    }
    if (stat.isDirectory()) {
      const inside = fs.readdirSync(arg)
          .filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort();
      if (inside.length === 0) throw new InputError(`${arg}: directory holds no .json file`);
      files.push(...inside.map((f) => path.join(arg, f)));
    } else {
      files.push(arg);
    }
  }
  return files;
}

// Returns [{file, doc}] for every input, or throws an InputError naming the first bad file.
export function loadResults(args) {
  if (args.length === 0) throw new InputError('no input files');
  return expandInputs(args).map((file) => {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new InputError(`${file}: cannot read (${error.code === 'ENOENT' ? 'no such file' : error.message})`);
    }
    return { file, doc: parseResult(text, file) };
  });
}
