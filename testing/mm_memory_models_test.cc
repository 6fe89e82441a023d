// SPDX-License-Identifier: MIT
// The mm model's real code under the explorer's store-buffer (x86-TSO) and C++ weak modes
// (deterministic_scheduler.h, weak_memory.h): the same small programs as
// mm_interleave_exhaustive_test (a GUP-fast pin against fork, unmap and a COW write), run
// through MmInterleaveRunner under a ScopedMemoryModel and judged by the truth oracle.
//
//   correct model     no schedule violates anything, in either mode;
//   fork-seq-store    fork makes write_protect_seq odd with a plain store and a release fence:
//                     found under TSO (the odd value waits in fork's store buffer while fork
//                     reads the page unpinned), not found sequentially consistent;
//   no-fence-after-pin  GUP-fast without the full fence after its acquire compare-exchange:
//                     found by the weak mode, not under TSO (the locked instruction is a full
//                     barrier on x86) nor sequentially consistent.
// Each verdict is exact and the same in every run (the searches are exhaustive within their
// bounds); the first violation's recorded choices must replay it.
//
// Bounds: at most kBound preemptions per schedule (as mm_interleave_exhaustive_test); a
// store-buffer flush that the explorer picks while the running thread could go on counts as a
// preemption. Weak mode: each location keeps its last kWeakBounds.history stores and at most
// kWeakBounds.max_stale_reads loads per schedule read an older store than the newest; a
// reads-from decision is not a preemption. Each test prints its schedule counts and wall time.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "deterministic_scheduler.h"
#include "mm_interleave.h"

namespace pinsplit {
namespace {

constexpr int kBound = 2;
constexpr WeakMemoryBounds kWeakBounds{3, 1};

using Op = MmThreadOp;
using K = MmThreadOpKind;

struct Search {
  long schedules = 0;
  long violating = 0;
  long with_fast_pin = 0;
  MmRunVerdict first;
  double seconds = 0;
};

Search Explore(const MmInterleaveProgram& program, MmModelVariant variant, MemoryModel model) {
  ScopedMemoryModel scoped(model, kWeakBounds);
  absl::StatusOr<std::unique_ptr<MmInterleaveRunner>> runner =
      MmInterleaveRunner::Create(program.policy, variant);
  EXPECT_TRUE(runner.ok()) << runner.status();
  Search search;
  if (!runner.ok()) return search;
  const auto start = std::chrono::steady_clock::now();
  ExhaustiveChooser explorer(kBound);
  do {
    MmRunVerdict verdict = (*runner)->Run(program, explorer);
    ++search.schedules;
    search.with_fast_pin += verdict.fast_pins > 0;
    if (!verdict.violations.empty() && search.violating++ == 0) search.first = std::move(verdict);
  } while (explorer.Advance());
  search.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return search;
}

std::string Describe(const MmInterleaveProgram& program) {
  std::vector<std::string> threads;
  for (std::size_t t = 0; t < program.threads.size(); ++t) {
    std::vector<std::string> ops;
    for (const Op& op : program.threads[t]) ops.push_back(DescribeOp(op));
    threads.push_back(absl::StrCat("T", t + 1, ": ", absl::StrJoin(ops, ", ")));
  }
  return absl::StrCat(program.policy, program.prefork ? ", prefork" : "", " | ",
                      absl::StrJoin(threads, " | "));
}

void Print(const MmInterleaveProgram& program, MmModelVariant variant, MemoryModel model,
           const Search& s) {
  std::cout << "[" << MemoryModelName(model) << ", " << VariantName(variant) << "] "
            << Describe(program) << ": " << s.schedules << " schedules (<= " << kBound
            << " preemptions), " << s.violating << " violating, " << s.with_fast_pin
            << " with a GUP-fast pin, " << s.seconds << " s\n";
  if (s.violating > 0) {
    std::cout << "  first violation: " << s.first.violations.front()
              << "\n  choices: " << absl::StrJoin(s.first.choices, " ") << "\n";
  }
}

// GUP-fast against fork, unmap and a COW write (the race programs of
// mm_interleave_exhaustive_test, without the two that exercise exit and the fault ordering).
std::vector<MmInterleaveProgram> RacePrograms(const std::string& policy) {
  std::vector<MmInterleaveProgram> out;
  for (K pin : {K::kPinRead, K::kPinWrite}) {
    out.push_back({policy, false, {{Op{pin, 0, 0}}, {Op{K::kFork, 0, 0}}}});
    out.push_back({policy, false, {{Op{pin, 0, 0}}, {Op{K::kUnmap, 0, 0}}}});
    out.push_back({policy, true, {{Op{pin, 0, 0}}, {Op{K::kWrite, 0, 0}}}});
    out.push_back({policy, true, {{Op{pin, 1, 0}}, {Op{K::kWrite, 0, 0}}}});
  }
  return out;
}

struct ModelCase {
  std::string policy;
  MemoryModel model;
};

class CorrectModelUnder : public ::testing::TestWithParam<ModelCase> {};

TEST_P(CorrectModelUnder, NoScheduleViolatesTheTruth) {
  const ModelCase& c = GetParam();
  long total = 0;
  long fast = 0;
  double seconds = 0;
  for (const MmInterleaveProgram& program : RacePrograms(c.policy)) {
    const Search s = Explore(program, MmModelVariant::kCorrect, c.model);
    Print(program, MmModelVariant::kCorrect, c.model, s);
    total += s.schedules;
    fast += s.with_fast_pin;
    seconds += s.seconds;
    EXPECT_EQ(s.violating, 0) << Describe(program) << "\n"
                              << (s.violating ? s.first.violations.front() : "");
    EXPECT_GT(s.schedules, 1) << Describe(program);
  }
  std::cout << c.policy << " under " << MemoryModelName(c.model) << ": " << total
            << " schedules in all, " << seconds << " s\n";
  EXPECT_GT(fast, 0);  // the lockless path ran
}

INSTANTIATE_TEST_SUITE_P(Modes, CorrectModelUnder,
                         ::testing::Values(ModelCase{"split", MemoryModel::kStoreBuffers},
                                           ModelCase{"anon-exclusive", MemoryModel::kStoreBuffers},
                                           ModelCase{"split", MemoryModel::kWeak},
                                           ModelCase{"anon-exclusive", MemoryModel::kWeak}),
                         [](const auto& info) {
                           std::string name = info.param.policy + "_" +
                                              std::string(MemoryModelName(info.param.model));
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

// Runs the fork race on `variant` under `model`; true if some schedule lets the pin slip, and
// then the first such schedule's recorded choices must replay the same violation.
bool FindsTheSlippedPin(const std::string& policy, MmModelVariant variant, MemoryModel model) {
  const MmInterleaveProgram program{
      policy, false, {{Op{K::kPinWrite, 0, 0}}, {Op{K::kFork, 0, 0}}}};
  const Search s = Explore(program, variant, model);
  Print(program, variant, model, s);
  if (s.violating == 0) return false;
  const std::string& first = s.first.violations.front();
  EXPECT_TRUE(first.find("long-term pin coherence") != std::string::npos ||
              first.find("isolation") != std::string::npos)
      << first;
  ScopedMemoryModel scoped(model, kWeakBounds);
  absl::StatusOr<std::unique_ptr<MmInterleaveRunner>> runner =
      MmInterleaveRunner::Create(policy, variant);
  EXPECT_TRUE(runner.ok());
  if (runner.ok()) {
    PreferenceChooser replay(s.first.choices);
    const MmRunVerdict again = (*runner)->Run(program, replay);
    EXPECT_EQ(again.violations, s.first.violations);
    EXPECT_EQ(again.choices, s.first.choices);
  }
  return true;
}

class TeethPolicy : public ::testing::TestWithParam<std::string> {};

TEST_P(TeethPolicy, AForkSeqStoreInAStoreBufferIsFoundByTsoNotBySequential) {
  EXPECT_TRUE(
      FindsTheSlippedPin(GetParam(), MmModelVariant::kForkSeqStore, MemoryModel::kStoreBuffers));
  EXPECT_FALSE(
      FindsTheSlippedPin(GetParam(), MmModelVariant::kForkSeqStore, MemoryModel::kSequential));
}

TEST_P(TeethPolicy, NoFenceAfterTheAcquirePinIsFoundByWeakNotByTso) {
  EXPECT_TRUE(FindsTheSlippedPin(GetParam(), MmModelVariant::kNoFenceAfterPin, MemoryModel::kWeak));
  EXPECT_FALSE(
      FindsTheSlippedPin(GetParam(), MmModelVariant::kNoFenceAfterPin, MemoryModel::kStoreBuffers));
  EXPECT_FALSE(
      FindsTheSlippedPin(GetParam(), MmModelVariant::kNoFenceAfterPin, MemoryModel::kSequential));
}

INSTANTIATE_TEST_SUITE_P(Policies, TeethPolicy,
                         ::testing::Values(std::string("split"), std::string("anon-exclusive")),
                         [](const auto& info) {
                           return info.param == "split" ? std::string("split")
                                                        : std::string("anon_exclusive");
                         });

}  // namespace
}  // namespace pinsplit
