#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// pinsplit-dashboard: turns result files (docs/results-format.md: kinds bench, fuzz, stress,
// compare, budget, fidelity) into one self-contained HTML page that opens offline.
//
//   node dashboard/generate.mjs [--out FILE] FILE|DIR...
//
// Exit status: 0 page written (its path printed), 2 bad flags, an unusable --out (a directory,
// an unwritable place) or a missing, empty, corrupt or unknown input file (the error names it).
// --out is checked before anything is read. A regular file (or a missing one) is replaced
// atomically: a temp file in the destination folder, then a rename, so a reader never sees half
// a page and no temp file outlives a failure; a symlink's target is written by the same rule;
// devices and FIFOs are written in place, never replaced; '-' is standard output.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { InputError, loadResults } from './lib/inputs.mjs';
import { buildModel } from './lib/model.mjs';
import { renderPage } from './lib/page.mjs';

const kExitBadInput = 2;
const kRepoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kUsage = `Usage: node dashboard/generate.mjs [--out FILE] FILE|DIR...

Turns pinsplit result files (kinds bench, fuzz, stress, compare, budget, fidelity; a DIR
stands for the *.json files anywhere under it) into one self-contained HTML page.

  --out FILE   the page to write (default: results/dashboard.html in the repository; '-' for
               standard output; a device or FIFO is written in place)
  --help       this text

Exit status: 0 page written, 2 bad flags, bad input (the file is named) or an unusable --out.`;

function describeError(error) {
  const why = { ENOENT: 'no such file or directory', EACCES: 'permission denied',
    EROFS: 'read-only file system', ENOSPC: 'no space left on device', EISDIR: 'is a directory',
    ENOTDIR: 'a path component is not a directory', ELOOP: 'too many symbolic links' };
  return why[error.code] ?? error.message;
}

// Where and how the page will be written, decided before any work is done:
//   '-'                        standard output
//   a missing path or a file   atomically (a temp file beside it, then a rename)
//   a symbolic link            its target, by these same rules (the link stays a link)
//   a device or FIFO           in place (opened and written, never replaced)
//   a directory, a socket      refused
// Throws an InputError naming the path and the reason.
export function planOutput(file, depth = 0) {
  if (file === '-') return { how: 'stdout', file };
  if (depth > 16) throw new InputError(`--out ${file}: too many symbolic links`);
  let stat;
  try {
    stat = fs.lstatSync(file);
  } catch (error) {
    if (error.code !== 'ENOENT') throw new InputError(`--out ${file}: ${describeError(error)}`);
    stat = null;
  }
  if (stat?.isSymbolicLink()) {
    const target = path.resolve(path.dirname(file), fs.readlinkSync(file));
    return planOutput(target, depth + 1);
  }
  if (stat?.isDirectory()) {
    throw new InputError(`--out ${file}: is a directory; --out names the page's file, ` +
                         `e.g. ${path.join(file, 'dashboard.html')}`);
  }
  if (stat?.isSocket()) throw new InputError(`--out ${file}: is a socket`);
  if (stat && !stat.isFile()) {
    try {
      fs.accessSync(file, fs.constants.W_OK);
    } catch (error) {
      throw new InputError(`--out ${file}: cannot write (${describeError(error)})`);
    }
    return { how: 'in place', file };
  }
  const dir = path.dirname(file);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (error) {
    throw new InputError(`--out ${file}: cannot write into ${dir} (${describeError(error)})`);
  }
  return { how: 'atomic', file };
}

// Writes `text` as planned; a failed atomic write removes its temp file. Throws an InputError.
export function writeOutput(plan, text) {
  if (plan.how === 'stdout') {
    try {
      fs.writeSync(1, text);
    } catch (error) {
      throw new InputError(`cannot write the page to standard output (${describeError(error)})`);
    }
    return;
  }
  if (plan.how === 'in place') {
    try {
      fs.writeFileSync(plan.file, text);
    } catch (error) {
      throw new InputError(`cannot write ${plan.file} (${describeError(error)})`);
    }
    return;
  }
  const dir = path.dirname(plan.file);
  const temp = path.join(dir, `.${path.basename(plan.file)}.${process.pid}.tmp`);
  try {
    const fd = fs.openSync(temp, 'wx');
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, plan.file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw new InputError(`cannot write ${plan.file} (${describeError(error)})`);
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
      if (out === '') throw new InputError('--out needs a value');
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
  let plan;
  try {
    args = parseArgs(argv);
    if (args.help) {
      console.log(kUsage);
      return 0;
    }
    plan = planOutput(args.out);  // before the work: a bad --out wastes nothing
    const results = loadResults(args.inputs);
    const html = renderPage(buildModel(results), results.map((r) => r.file));
    writeOutput(plan, html);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    console.error(`dashboard: error: ${error.message}`);
    if (!args) console.error(kUsage);
    return kExitBadInput;
  }
  if (plan.how !== 'stdout') console.log(path.resolve(args.out));
  return 0;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Ctrl-C or SIGTERM while the page is written must not leave a temp file: with a handler the
  // signal waits for the (synchronous) work to finish or clean up, then the exit says it came.
  const interrupted = { SIGINT: 130, SIGTERM: 143 };
  for (const [signal, code] of Object.entries(interrupted)) {
    process.on(signal, () => process.exit(code));
  }
  process.exitCode = main(process.argv.slice(2));
}
