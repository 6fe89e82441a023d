// SPDX-License-Identifier: MIT
// Fuzz target mm_interleave: two or three logical threads each run a few process-level
// operations (GUP-fast pins, fork, unmap, writes that fault, unpin, exit) on the mm model under
// the deterministic scheduler; the input (mm_interleave_input.h) picks the policy, the
// operations and who runs at each scheduling decision. The truth oracle judges after every
// operation and at the end; a violation prints the decoded script and crashes.
//
// PINSPLIT_MM_INTERLEAVE_VARIANT=NAME runs a deliberately broken build instead
// (broken:no-seq-recheck, broken:recheck-before-pin, broken:late-fork-bump,
// broken:mapcount-fast-pin).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mm_interleave_input.h"

namespace {

const std::string& Variant() {
  static const auto* variant = [] {
    const char* env = std::getenv("PINSPLIT_MM_INTERLEAVE_VARIANT");
    return new std::string(env == nullptr ? "" : env);
  }();
  return *variant;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto verdict = pinsplit::MmInterleaveVerdict(
      std::string_view(reinterpret_cast<const char*>(data), size), Variant());
  if (!verdict.ok()) {
    std::fprintf(stderr, "mm_interleave: %s\n", std::string(verdict.status().message()).c_str());
    std::abort();  // a bad PINSPLIT_MM_INTERLEAVE_VARIANT: every input would be meaningless
  }
  if (!verdict->has_value()) return 0;
  std::fputs((*verdict)->c_str(), stderr);
  __builtin_trap();
}
