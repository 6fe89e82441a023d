// SPDX-License-Identifier: MIT
// The version every pinsplit program prints (--version) and every result file records: the
// project's version, set in one place (project(pinsplit VERSION ...) in the top CMakeLists.txt),
// and the git revision the binary was built from (read at build time, so a commit without a
// reconfigure still shows).
#pragma once

#include <string>
#include <string_view>

namespace pinsplit {

// "0.1.0": CMake's PROJECT_VERSION.
std::string_view ProjectVersion();

// The short git revision of the source tree at build time; "unknown" outside a git checkout.
std::string_view BuildGitRevision();

// "PROGRAM 0.1.0 (git ab12cd3)": what --version prints.
std::string VersionLine(std::string_view program);

}  // namespace pinsplit
