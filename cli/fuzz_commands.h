// SPDX-License-Identifier: MIT
// The pinsplit subcommands that belong to fuzzing: replaying interleave scripts, and decoding
// and encoding fuzz inputs. Kept apart from pinsplit_main.cc so that file stays a dispatcher.
#pragma once

#include <string>
#include <vector>

namespace pinsplit {

// `pinsplit replay` of a script in the interleave dialect. `impl` empty: the script's
// `# impls: NAME` line, else split. Returns the exit status (0, 1, 2).
int ReplayInterleave(const std::string& path, const std::string& text, const std::string& impl,
                     bool quiet);

// `pinsplit decode --target=NAME [--impl=NAME] [--output=FILE] FILE`: fuzz input -> op script.
int DecodeCommand(const std::vector<std::string>& args, const std::string& impl,
                  const std::string& policy);

// `pinsplit encode --target=NAME [--impl=NAME] [--output=FILE] FILE`: op script -> fuzz input.
int EncodeCommand(const std::vector<std::string>& args, const std::string& impl);

}  // namespace pinsplit
