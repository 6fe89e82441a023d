// SPDX-License-Identifier: MIT
// Command-line parsing shared by every pinsplit program, on top of Abseil flags.
//
// Abseil exits with status 1 on an unknown flag or a bad value and on --help. pinsplit's
// programs promise 0 on success, 1 when a check finds a violation and 2 on bad input, and a
// --help that succeeds, so flags are checked here first: --help prints the usage and this
// program's own flags and exits 0; --version prints "PROGRAM 0.1.0 (git REV)" (version.h) and
// exits 0; an unknown flag or a bad value prints why and exits 2.
#pragma once

#include <string>
#include <vector>

namespace pinsplit {

// Exit codes shared by every CLI.
inline constexpr int kExitOk = 0;
inline constexpr int kExitViolation = 1;
inline constexpr int kExitBadInput = 2;
// Stopped by SIGINT/SIGTERM with partial results kept (budget, fidelity, host false-pin; the
// shell's 128 + SIGINT, as ./harness fuzz).
inline constexpr int kExitInterrupted = 130;

// Parses flags (exiting as above when they are wrong) and returns the positional arguments,
// without argv[0].
std::vector<std::string> ParseCommandLineOrExit(int argc, char** argv, const std::string& usage);

// Prints "PROGRAM: error: WHAT (see --help)" and exits 2.
[[noreturn]] void ExitBadInput(const std::string& what);

// Prints "PROGRAM: error: WHAT" (no --help hint: the input was fine, the environment failed,
// e.g. an output that cannot be written) and exits 2.
[[noreturn]] void ExitCannot(const std::string& what);

// The last thing a command does before returning `exit_status`: flushes standard output and
// checks nothing written to it was lost (a full disk, /dev/full, a closed pipe). Lost output is
// never a success: it prints "PROGRAM: error: cannot write standard output: WHY" and returns 2.
int FinishStandardOutput(int exit_status);

// For each flag in `flag_names` set on the command line, prints
// "PROGRAM: note: --FLAG does not apply to CONTEXT; ignored" to stderr. Values are still
// checked by the caller: an invalid value is an error even where the flag does not apply.
void NoteFlagsThatDoNotApply(const std::vector<std::string>& flag_names,
                             const std::string& context);

// Whether `--NAME` was given on the command line.
bool FlagWasSet(const std::string& name);

}  // namespace pinsplit
