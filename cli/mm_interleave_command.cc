// SPDX-License-Identifier: MIT
#include "mm_interleave_command.h"

#include <iostream>

#include "command_line.h"
#include "mm_interleave_input.h"

namespace pinsplit {

int ReplayMmInterleaveCommand(const std::string& path, const std::string& text, bool quiet) {
  NoteFlagsThatDoNotApply({"impl", "policy"},
                          "an mm-interleave script (it names its policy and variant)");
  if (!quiet) std::cout << "replay " << path << "\n";
  absl::StatusOr<bool> clean = ReplayMmInterleaveScript(text, &std::cout);
  if (!clean.ok()) {
    std::cerr << path << ": " << clean.status().message() << "\n";
    return kExitBadInput;
  }
  return *clean ? kExitOk : kExitViolation;
}

}  // namespace pinsplit
