// SPDX-License-Identifier: MIT
// The "run" object every result file carries (docs/results-format.md): which run, when, on
// which revision and machine, built how. One place builds it for every C++ tool.
#pragma once

#include <string>
#include <string_view>

#include "pinsplit/json_string.h"

namespace pinsplit {

// {"id": ..., "started": ..., "version": ..., "git_revision": ..., "host": ..., "cpus": ...,
//  "compiler": ..., "flags": ..., "preset": ...}. The version is the project's (version.h); the
// revision comes from $PINSPLIT_GIT_REVISION (the harness sets it), else the revision the binary
// was built from; the id is the start time and the revision.
std::string RunInfoJson();

}  // namespace pinsplit
