// SPDX-License-Identifier: MIT
// Every schedule (within a preemption bound) of small programs that race a GUP-fast pin against
// fork, unmap and a COW fault on the mm model under the deterministic scheduler
// (mm_interleave.h), judged by the truth oracle after every operation and at the end.
//
//   fork    T1: pin P 0 (read or write, long-term, GUP-fast first)   T2: fork P
//   unmap   T1: pin P 0                                               T2: unmap P 0
//   cow     P forked C first (page 0 shared, write-protected)
//           T1: pin P 0 / pin C 0                                     T2: write P 0
//   fault   P forked C first   T1: write C 0   T2: unmap P 0, pin read C 0  (split's GUP-fast
//           once pinned on mapcount 1 while C's fault had decided to copy on mapcount 2)
// under the split and anon-exclusive policies. Correct model: no schedule may violate anything.
// Proof of teeth on the fork race: the model without the write_protect_seq recheck, and two
// builds that only NARROW the window (deterministic_mm_model.h: recheck before the pin; fork's
// bump after its first entry) must each be caught, and the recorded choices of the first
// violating schedule must replay to the same verdict.
//
// Bound: fork alone performs some 200 accesses (it clears and copies 64 page-table entries), so
// the unbounded search is astronomically large; every search here runs each schedule with at
// most kBound preemptions exactly once (CHESS's context bounding, ExhaustiveChooser). The
// slipped pin needs two: GUP-fast reads the entry, fork checks the page, GUP-fast pins and
// rechecks, fork write-protects. Each test prints the schedules it ran.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mm_interleave.h"

namespace pinsplit {
namespace {

constexpr int kBound = 2;

using Op = MmThreadOp;
using K = MmThreadOpKind;

struct Search {
  long schedules = 0;
  long violating = 0;
  long with_fast_pin = 0;
  MmRunVerdict first;  // the first violating run
  double seconds = 0;
};

Search Explore(const MmInterleaveProgram& program, MmModelVariant variant,
               bool stop_at_first = false) {
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
    if (!verdict.violations.empty()) {
      if (search.violating++ == 0) search.first = std::move(verdict);
      if (stop_at_first) break;
    }
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

void Print(const MmInterleaveProgram& program, MmModelVariant variant, const Search& s) {
  std::cout << "[" << VariantName(variant) << "] " << Describe(program) << ": " << s.schedules
            << " schedules (<= " << kBound << " preemptions), " << s.violating << " violating, "
            << s.with_fast_pin << " with a GUP-fast pin, " << s.seconds << " s\n";
  if (s.violating > 0) {
    std::cout << "  first violation: " << s.first.violations.front()
              << "\n  choices: " << absl::StrJoin(s.first.choices, " ") << "\n";
  }
}

std::vector<MmInterleaveProgram> RacePrograms(const std::string& policy) {
  std::vector<MmInterleaveProgram> out;
  for (K pin : {K::kPinRead, K::kPinWrite}) {
    out.push_back({policy, false, {{Op{pin, 0, 0}}, {Op{K::kFork, 0, 0}}}});
    out.push_back({policy, false, {{Op{pin, 0, 0}}, {Op{K::kUnmap, 0, 0}}}});
    out.push_back({policy, true, {{Op{pin, 0, 0}}, {Op{K::kWrite, 0, 0}}}});
    out.push_back({policy, true, {{Op{pin, 1, 0}}, {Op{K::kWrite, 0, 0}}}});
  }
  // A COW fault in C that decided to copy while P's unmap drops the page to one mapping and
  // a GUP-fast read pin in C lands before the fault replaces the entry (split once allowed it).
  out.push_back(
      {policy, true, {{Op{K::kWrite, 1, 0}}, {Op{K::kUnmap, 0, 0}, Op{K::kPinRead, 1, 0}}}});
  // P's pin lands, then P exits and C's fork reuses P's slot before the pin call returns: the
  // pin is the exited P's (detached), not the new child's (the runner once gave it to the child).
  out.push_back(
      {policy, true, {{Op{K::kPinRead, 0, 0}}, {Op{K::kExit, 0, 0}, Op{K::kFork, 1, 0}}}});
  return out;
}

// The rest of the model's process-level surface, each raced where it meets GUP-fast or fork:
// mprotect both ways, extra references, slow-path and short-term pins, the unshare a slow read
// pin makes on a shared page, loads through pins, exit in another thread than the fork, and a
// fork of the child while its parent holds a pin.
std::vector<MmInterleaveProgram> SurfacePrograms(const std::string& policy) {
  std::vector<MmInterleaveProgram> out;
  // mprotect read-only against a write pin; and the oddness window (see TeethOddness).
  out.push_back({policy, false, {{Op{K::kPinWrite, 0, 0}}, {Op{K::kProtectRo, 0, 0}}}});
  out.push_back({policy,
                 false,
                 {{Op{K::kPinRead, 0, 0}, Op{K::kProtectRw, 0, 0}},
                  {Op{K::kProtectRo, 0, 0}, Op{K::kFork, 0, 0}}}});
  // An extra reference taken and dropped while P forks (a maybe-pinned page for bias-like
  // counts; exact for split).
  out.push_back({policy, false, {{Op{K::kRef, 0, 0}, Op{K::kDrop, 0, 0}}, {Op{K::kFork, 0, 0}}}});
  // Slow-path pins: a read pin on the shared page unshares it while P's write faults; a write
  // pin breaks COW against a fork.
  out.push_back({policy, true, {{Op{K::kPinSlowRead, 1, 0}}, {Op{K::kWrite, 0, 0}}}});
  out.push_back({policy, false, {{Op{K::kPinSlowWrite, 0, 0}}, {Op{K::kFork, 0, 0}}}});
  // A short-term pin, GUP-fast first, dropped again, against fork.
  out.push_back(
      {policy, false, {{Op{K::kPinShortWrite, 0, 0}, Op{K::kUnpin, 0, 0}}, {Op{K::kFork, 0, 0}}}});
  // A load through a long-term read pin while the other process's write faults.
  out.push_back(
      {policy, true, {{Op{K::kPinRead, 0, 0}, Op{K::kReadPin, 0, 0}}, {Op{K::kWrite, 1, 0}}}});
  // P exits in one thread while another forks it.
  out.push_back({policy, false, {{Op{K::kFork, 0, 0}}, {Op{K::kExit, 0, 0}}}});
  // C forks a grandchild while its parent P pins the page they share.
  out.push_back({policy, true, {{Op{K::kPinWrite, 0, 0}}, {Op{K::kFork, 1, 0}}}});
  return out;
}

class CorrectModel : public ::testing::TestWithParam<std::string> {};

TEST_P(CorrectModel, NoScheduleViolatesTheTruth) {
  long total = 0;
  long fast = 0;
  for (const MmInterleaveProgram& program : RacePrograms(GetParam())) {
    const Search s = Explore(program, MmModelVariant::kCorrect);
    Print(program, MmModelVariant::kCorrect, s);
    total += s.schedules;
    fast += s.with_fast_pin;
    EXPECT_EQ(s.violating, 0) << Describe(program) << "\n"
                              << (s.violating ? s.first.violations.front() : "");
    EXPECT_GT(s.schedules, 1) << Describe(program);
  }
  std::cout << GetParam() << ": " << total << " schedules in all\n";
  // The races are real only if the lockless path ran: GUP-fast must have pinned somewhere.
  EXPECT_GT(fast, 0);
}

TEST_P(CorrectModel, NoScheduleOfTheWholeSurfaceViolatesTheTruth) {
  long total = 0;
  for (const MmInterleaveProgram& program : SurfacePrograms(GetParam())) {
    const Search s = Explore(program, MmModelVariant::kCorrect);
    Print(program, MmModelVariant::kCorrect, s);
    total += s.schedules;
    EXPECT_EQ(s.violating, 0) << Describe(program) << "\n"
                              << (s.violating ? s.first.violations.front() : "");
    EXPECT_GT(s.schedules, 1) << Describe(program);
  }
  std::cout << GetParam() << ": " << total << " schedules of the whole surface\n";
}

INSTANTIATE_TEST_SUITE_P(Policies, CorrectModel,
                         ::testing::Values(std::string("split"), std::string("anon-exclusive")),
                         [](const auto& info) {
                           return info.param == "split" ? std::string("split")
                                                        : std::string("anon_exclusive");
                         });

struct TeethCase {
  std::string policy;
  MmModelVariant variant;
  K pin;
};

void PrintTo(const TeethCase& c, std::ostream* os) {
  *os << c.policy << " " << VariantName(c.variant);
}

class Teeth : public ::testing::TestWithParam<TeethCase> {};

TEST_P(Teeth, FindsThePinThatSlipsIntoFork) {
  const TeethCase& c = GetParam();
  const MmInterleaveProgram program{c.policy, false, {{Op{c.pin, 0, 0}}, {Op{K::kFork, 0, 0}}}};
  const Search s = Explore(program, c.variant);
  Print(program, c.variant, s);
  ASSERT_GT(s.violating, 0) << VariantName(c.variant) << " was not caught";
  // The pin's page is no longer the one the process maps: coherence, or isolation for a write.
  const std::string& first = s.first.violations.front();
  EXPECT_TRUE(first.find("long-term pin coherence") != std::string::npos ||
              first.find("isolation") != std::string::npos)
      << first;
  // The recorded choices replay the violation.
  absl::StatusOr<std::unique_ptr<MmInterleaveRunner>> runner =
      MmInterleaveRunner::Create(c.policy, c.variant);
  ASSERT_TRUE(runner.ok());
  PreferenceChooser replay(s.first.choices);
  const MmRunVerdict again = (*runner)->Run(program, replay);
  EXPECT_EQ(again.violations, s.first.violations);
  EXPECT_EQ(again.choices, s.first.choices);
}

// The fault race split once lost: its old GUP-fast rule (mapcount alone) must be caught.
TEST(TeethFault, FindsTheFastPinThatACowFaultCopiesAway) {
  const MmInterleaveProgram program{
      "split", true, {{Op{K::kWrite, 1, 0}}, {Op{K::kUnmap, 0, 0}, Op{K::kPinRead, 1, 0}}}};
  const Search s = Explore(program, MmModelVariant::kMapcountFastPin);
  Print(program, MmModelVariant::kMapcountFastPin, s);
  ASSERT_GT(s.violating, 0);
  EXPECT_NE(s.first.violations.front().find("long-term pin coherence"), std::string::npos)
      << s.first.violations.front();
}

// A recheck that asks only "is a fork running now" (broken:odd-only-recheck): found when a
// whole fork fits between GUP-fast's first look at the sequence and its recheck, on an entry
// mprotect already write-protected (so the entry recheck passes too), and P's later write
// copies the page away from the pin.
class TeethOddness : public ::testing::TestWithParam<std::string> {};

TEST_P(TeethOddness, FindsTheForkThatCameAndWentInsideTheWindow) {
  const MmInterleaveProgram program{GetParam(),
                                    false,
                                    {{Op{K::kPinRead, 0, 0}, Op{K::kProtectRw, 0, 0}},
                                     {Op{K::kProtectRo, 0, 0}, Op{K::kFork, 0, 0}}}};
  const Search s = Explore(program, MmModelVariant::kOddOnlyRecheck);
  Print(program, MmModelVariant::kOddOnlyRecheck, s);
  ASSERT_GT(s.violating, 0) << "broken:odd-only-recheck was not caught";
  EXPECT_NE(s.first.violations.front().find("long-term pin coherence"), std::string::npos)
      << s.first.violations.front();
  absl::StatusOr<std::unique_ptr<MmInterleaveRunner>> runner =
      MmInterleaveRunner::Create(GetParam(), MmModelVariant::kOddOnlyRecheck);
  ASSERT_TRUE(runner.ok());
  PreferenceChooser replay(s.first.choices);
  EXPECT_EQ((*runner)->Run(program, replay).violations, s.first.violations);
  // The same flaw is invisible to the fork race the explorer ran before (the entry changes).
  const MmInterleaveProgram old_race{
      GetParam(), false, {{Op{K::kPinRead, 0, 0}}, {Op{K::kFork, 0, 0}}}};
  const Search before = Explore(old_race, MmModelVariant::kOddOnlyRecheck);
  Print(old_race, MmModelVariant::kOddOnlyRecheck, before);
  EXPECT_EQ(before.violating, 0);
}

INSTANTIATE_TEST_SUITE_P(Policies, TeethOddness,
                         ::testing::Values(std::string("split"), std::string("anon-exclusive")),
                         [](const auto& info) {
                           return info.param == "split" ? std::string("split")
                                                        : std::string("anon_exclusive");
                         });

std::vector<TeethCase> TeethCases() {
  std::vector<TeethCase> out;
  for (const char* policy : {"split", "anon-exclusive"}) {
    for (MmModelVariant v : {MmModelVariant::kNoSeqRecheck, MmModelVariant::kRecheckBeforePin,
                             MmModelVariant::kLateForkBump}) {
      out.push_back({policy, v, K::kPinWrite});
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Variants, Teeth, ::testing::ValuesIn(TeethCases()), [](const auto& info) {
  std::string name = info.param.policy + "_" + std::string(VariantName(info.param.variant));
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
});

}  // namespace
}  // namespace pinsplit
