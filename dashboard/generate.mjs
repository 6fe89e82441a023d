#!/usr/bin/env node
// pinsplit-dashboard: turns result files (docs/results-format.md: kinds bench, fuzz, stress,
// compare) into one self-contained HTML page that opens offline.
//
//   node dashboard/generate.mjs [--out FILE] FILE|DIR...
//
// Exit status: 0 page written (its path printed), 2 bad flags or a missing, empty, corrupt or
// unknown input file (the error names it). The page is written atomically: a temp file in the
// destination folder, then a rename, so a reader never sees half a page.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { InputError, loadResults } from './lib/inputs.mjs';
import { buildModel } from './lib/model.mjs';
import { renderPage } from './lib/page.mjs';

const kExitBadInput = 2;
const kRepoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kUsage = `Usage: node dashboard/generate.mjs [--out FILE] FILE|DIR...

Turns pinsplit result files (kinds bench, fuzz, stress, compare; a DIR stands for the *.json
files in it) into one self-contained HTML page.

  --out FILE   the page to write (default: results/dashboard.html in the repository)
  --help       this text

Exit status: 0 page written, 2 bad flags or bad input (the file is named).`;

export function writeAtomically(file, text) {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const fd = fs.openSync(temp, 'w');
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

function parseArgs(argv) {
  const inputs = [];
  let out = path.join(kRepoRoot, 'results', 'dashboard.html');
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { help: true };
    if (arg === '--out') {
      if (i + 1 >= argv.length) throw new InputError('--out needs a value');
      out = argv[++i];
    } else if (arg.startsWith('--out=')) {
      out = arg.slice('--out='.length);
    } else if (arg === '--') {
      inputs.push(...argv.slice(i + 1));
      break;
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new InputError(`unknown flag ${arg}`);
    } else {
      inputs.push(arg);
    }
  }
  if (inputs.length === 0) throw new InputError('no input files');
  return { inputs, out };
}

export function main(argv) {
  let args;
  try {
    args = parseArgs(argv);
    if (args.help) {
      console.log(kUsage);
      return 0;
    }
    const results = loadResults(args.inputs);
    const html = renderPage(buildModel(results), results.map((r) => r.file));
    writeAtomically(args.out, html);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    console.error(`dashboard: error: ${error.message}`);
    if (!args) console.error(kUsage);
    return kExitBadInput;
  }
  console.log(path.resolve(args.out));
  return 0;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
