// Fuzz target refcount_ops: one operation sequence (fuzz_input.h) on every shipped counter,
// each beside the sequential model; any difference in a result, a misuse report or the decoded
// state after any operation is a crash, printed with the decoded script that reproduces it.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "deterministic_refcounts.h"
#include "fuzz_input.h"

namespace {

const std::vector<std::string>& Counters() {
  static const auto* names = new std::vector<std::string>(pinsplit::CorrectRefcountNames());
  return *names;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::vector<pinsplit::CounterOp> ops = pinsplit::DecodeRefcountOps(bytes);
  for (const std::string& name : Counters()) {
    const pinsplit::RefcountOpsOutcome outcome = pinsplit::RunRefcountOps(ops, name, false);
    if (!outcome.difference) continue;
    pinsplit::DecodeOptions options;
    options.impl = name;
    const auto script = pinsplit::DecodeFuzzInput("refcount_ops", bytes, options);
    std::fprintf(stderr, "refcount_ops: %s differs from the model: %s\n--- decoded ---\n%s\n",
                 name.c_str(), outcome.difference->c_str(),
                 script.ok() ? script->c_str() : "(decode failed)");
    __builtin_trap();
  }
  return 0;
}
