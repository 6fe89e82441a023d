// SPDX-License-Identifier: MIT
// Harness speed: executions per second of each fuzz target's one-input function, the very
// function its libFuzzer target calls (fuzz/fuzz_verdict.h), on fixed inputs: the target's seed
// corpus (fuzz/corpus/<target>/*.ops, encoded here as the build encodes it).
//
//   BM_Harness/refcount_ops/seeds                 every correct counter beside the model
//   BM_Harness/interleave/seeds                   the deterministic scheduler, linearizability
//   BM_Harness/mm_ops/seeds/policy:<policy>       the mm model and the truth oracle, per policy
//
// items = executions (inputs run), cycling through the seeds in order. This measures the
// target's own work in this build (no libFuzzer, no coverage instrumentation, no ASan unless the
// preset has it); libFuzzer's exec/s in the fuzz preset (./harness fuzz) adds those costs. A
// target whose seeds cannot be read or encoded reports an error instead of a number. There is
// no plain twin (ratio_to_plain is null); bench/report.py lists these under "harness".
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench_suite.h"
#include "fuzz_input.h"
#include "fuzz_verdict.h"
#include "pinsplit/mm/policy.h"

namespace pinsplit::bench {
namespace {

// The encoded seed corpus of `target`, in file-name order; an error message when it is empty
// or a seed does not encode.
absl::StatusOr<std::vector<std::string>> SeedInputs(const std::string& target) {
  const std::filesystem::path dir =
      std::filesystem::path(PINSPLIT_SOURCE_DIR) / "fuzz" / "corpus" / target;
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.path().extension() == ".ops") files.push_back(entry.path());
  }
  if (error || files.empty()) {
    return absl::NotFoundError(absl::StrCat("no seeds in ", dir.string()));
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> inputs;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<std::string> bytes = EncodeFuzzInput(target, text.str());
    if (!bytes.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file.string(), ": ", bytes.status().message()));
    }
    inputs.push_back(*std::move(bytes));
  }
  return inputs;
}

// Runs `verdict` on the seeds of `target` in turn; one iteration is one execution. A verdict
// on a seed (seeds are clean, except where a policy's known bug is the point) is counted, not
// an error: the time it took is part of what the harness spends.
template <class Verdict>
void RunSeeds(benchmark::State& state, const std::string& target, Verdict verdict) {
  absl::StatusOr<std::vector<std::string>> inputs = SeedInputs(target);
  if (!inputs.ok()) return state.SkipWithError(std::string(inputs.status().message()).c_str());
  std::size_t next = 0, verdicts = 0;
  for (auto _ : state) {
    verdicts += verdict((*inputs)[next]);
    next = next + 1 == inputs->size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["seeds"] = static_cast<double>(inputs->size());
  state.counters["verdicts"] = static_cast<double>(verdicts);
}

void RegisterHarnessBenchmarks() {
  RegisterAtThreads(BenchName("Harness", "refcount_ops", "seeds"), 1, [](benchmark::State& s) {
    RunSeeds(s, "refcount_ops",
             [](const std::string& in) { return RefcountOpsVerdict(in).has_value(); });
  });
  RegisterAtThreads(BenchName("Harness", "interleave", "seeds"), 1, [](benchmark::State& s) {
    RunSeeds(s, "interleave",
             [](const std::string& in) { return InterleaveVerdict(in, "").has_value(); });
  });
  for (const std::string& policy : mm::KnownPolicies()) {
    RegisterAtThreads(absl::StrCat(BenchName("Harness", "mm_ops", "seeds"), "/policy:", policy), 1,
                      [policy](benchmark::State& s) {
                        RunSeeds(s, "mm_ops", [&policy](const std::string& in) {
                          absl::StatusOr<std::optional<std::string>> v = MmOpsVerdict(in, policy);
                          return !v.ok() || v->has_value();
                        });
                      });
  }
}

PINSPLIT_BENCH_SUITE(RegisterHarnessBenchmarks);

}  // namespace
}  // namespace pinsplit::bench
