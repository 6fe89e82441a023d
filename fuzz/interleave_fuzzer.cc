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

#include "fuzz_input.h"
#include "interleave_replay.h"

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
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const pinsplit::InterleaveInput input = pinsplit::DecodeInterleave(bytes);
  const std::string impl = CounterOverride().empty()
                               ? pinsplit::InterleaveCounters()[input.counter_index]
                               : CounterOverride();
  auto runner = pinsplit::InterleaveRunner::Create(input.script, impl);
  if (!runner.ok()) return 0;  // a `set` this counter cannot hold: not a concurrency question
  pinsplit::PreferenceChooser chooser(input.script.schedule);
  const pinsplit::InterleaveRun run = (*runner)->Run(chooser);
  if (run.failures.empty()) return 0;
  pinsplit::DecodeOptions options;
  options.impl = impl;
  const auto script = pinsplit::DecodeFuzzInput("interleave", bytes, options);
  std::fprintf(stderr, "interleave: NOT linearizable on %s\n%s--- decoded ---\n%s\n", impl.c_str(),
               pinsplit::FormatInterleaveRun(input.script, run).c_str(),
               script.ok() ? script->c_str() : "(decode failed)");
  __builtin_trap();
}
