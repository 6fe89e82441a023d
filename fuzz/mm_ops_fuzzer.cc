// SPDX-License-Identifier: MIT
// Fuzz target mm_ops: process-level operations (spawn, map, write, read, fork, pins of every
// kind, pin I/O, unpin, extra references, mprotect, unmap, exit) decoded from the input
// (mm_ops_input.h) and run on the mm model under one policy, with the truth oracle checking
// isolation, long-term pin coherence, accounting, protection, writability and
// AnonExclusive after every step. Any violation prints the
// decoded script and crashes.
//
// The policy is PINSPLIT_MM_POLICY (default: split). mapcount and refcount are expected to
// crash, but only with violations of the kinds their headers name (known_violations): the
// verdict's first line and the decoded script's `# crash:` line say whether a crash is one of
// them; split, anon-exclusive and ideal must not crash at all.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_verdict.h"

namespace {

const std::string& Policy() {
  static const auto* policy = [] {
    const char* env = std::getenv("PINSPLIT_MM_POLICY");
    return new std::string(env == nullptr || *env == '\0' ? "split" : env);
  }();
  return *policy;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const absl::StatusOr<std::optional<std::string>> verdict =
      pinsplit::MmOpsVerdict(std::string_view(reinterpret_cast<const char*>(data), size), Policy());
  if (!verdict.ok()) {
    std::fprintf(stderr, "mm_ops: %s\n", std::string(verdict.status().message()).c_str());
    std::abort();  // a bad PINSPLIT_MM_POLICY: every input would be meaningless
  }
  if (!verdict->has_value()) return 0;
  std::fputs((*verdict)->c_str(), stderr);
  __builtin_trap();
}
