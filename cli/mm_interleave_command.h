// SPDX-License-Identifier: MIT
// `pinsplit replay FILE` on an mm-interleave script (fuzz/mm_interleave_input.h): runs the
// program on the mm model under the deterministic scheduler with the script's schedule and
// judges it with the truth oracle. Exit 0 no violation, 1 a violation, 2 a malformed script.
#pragma once

#include <string>
#include <string_view>

#include "mm_interleave_input.h"  // LooksLikeMmInterleaveScript

namespace pinsplit {

int ReplayMmInterleaveCommand(const std::string& path, const std::string& text, bool quiet);

}  // namespace pinsplit
