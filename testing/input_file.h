// SPDX-License-Identifier: MIT
// How every pinsplit program reads an input file (a script, a fuzz input, a result file).
//
//   what PATH names        what ReadInputFile does
//   "-"                    reads standard input to its end
//   a regular file, FIFO,  reads it to its end
//   device or symlink to one
//   a directory            refused: "'DIR' is a directory, not a file"
//   nothing, unreadable    refused with errno's text ("No such file or directory", ...)
//
// A read error half-way (EIO) is an error too, never a short file. Every failure is
// InvalidArgument naming the path, so a CLI reports it and exits 2.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace pinsplit {

absl::StatusOr<std::string> ReadInputFile(const std::string& path);

// True when `text` holds nothing but whitespace and `#` comments: a script with no operations,
// which the CLIs warn about rather than report as a pass over nothing.
bool HoldsNoOperations(const std::string& text);

}  // namespace pinsplit
