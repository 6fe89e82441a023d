// SPDX-License-Identifier: MIT
// Fuzz target interleave: 2 to 4 logical threads each run a few operations on one counter
// under the deterministic scheduler; the input (fuzz_input.h) picks the counter, the initial
// state, the operations and who runs at each scheduling decision. Every complete history must
// be linearizable against the sequential model; otherwise the target prints the decoded script
// and the run, and crashes.
//
// PINSPLIT_INTERLEAVE_COUNTER=NAME runs every input on NAME instead (any name of
// testing/deterministic_refcounts.h, including the broken variants the proof-of-teeth test
// uses). Every thread started for an input is joined before the input returns.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_verdict.h"

namespace {

const std::string& CounterOverride() {
  static const auto* name = [] {
    const char* env = std::getenv("PINSPLIT_INTERLEAVE_COUNTER");
    return new std::string(env == nullptr ? "" : env);
  }();
  return *name;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto verdict = pinsplit::InterleaveVerdict(
      std::string_view(reinterpret_cast<const char*>(data), size), CounterOverride());
  if (!verdict) return 0;
  std::fputs(verdict->c_str(), stderr);
  __builtin_trap();
}
