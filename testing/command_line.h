// Command-line parsing shared by every pinsplit program, on top of Abseil flags.
//
// Abseil exits with status 1 on an unknown flag or a bad value and on --help. pinsplit's
// programs promise 0 on success, 1 when a check finds a violation and 2 on bad input, and a
// --help that succeeds, so flags are checked here first: --help prints the usage and this
// program's own flags and exits 0; an unknown flag or a bad value prints why and exits 2.
#pragma once

#include <string>
#include <vector>

namespace pinsplit {

// Exit codes shared by every CLI.
inline constexpr int kExitOk = 0;
inline constexpr int kExitViolation = 1;
inline constexpr int kExitBadInput = 2;

// Parses flags (exiting as above when they are wrong) and returns the positional arguments,
// without argv[0].
std::vector<std::string> ParseCommandLineOrExit(int argc, char** argv, const std::string& usage);

// Prints "PROGRAM: error: WHAT (see --help)" and exits 2.
[[noreturn]] void ExitBadInput(const std::string& what);

}  // namespace pinsplit
