// SPDX-License-Identifier: MIT
// Fuzz target refcount_ops: one operation sequence (fuzz_input.h) on every shipped counter,
// each beside the sequential model; any difference in a result, a misuse report or the decoded
// state after any operation is a crash, printed with the decoded script that reproduces it.
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "fuzz_verdict.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto verdict =
      pinsplit::RefcountOpsVerdict(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!verdict) return 0;
  std::fputs(verdict->c_str(), stderr);
  __builtin_trap();
}
