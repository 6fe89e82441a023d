// SPDX-License-Identifier: MIT
// Proof of teeth for mm_ops without the fuzzing engine: a fixed-seed random search over inputs
// must find the known violations of the old policies within a bounded number of runs, and
// nothing in the designs that are right. (With libFuzzer, fuzz.mm_ops.* tests do the same.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <thread>

#include "mm_ops_input.h"

namespace pinsplit {
namespace {

using testing::HasSubstr;

constexpr int kRuns = 4000;

// Inputs biased toward the operations the known bugs need (fork, pins, unmap, writes, pin
// reads); every byte string is a valid input, so this only shapes the search.
std::string RandomInput(std::mt19937& rng) {
  static constexpr std::uint8_t kCodes[] = {0, 1, 1, 2, 2, 3, 4,  4,  5, 5,
                                            5, 6, 6, 7, 8, 9, 10, 11, 12};
  std::string bytes = {0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0};  // spawn P0, map 0, map 1
  const int ops = 8 + static_cast<int>(rng() % 24);
  for (int i = 0; i < ops; ++i) {
    bytes += static_cast<char>(kCodes[rng() % sizeof(kCodes)]);
    for (int j = 0; j < 3; ++j) bytes += static_cast<char>(rng() % 8);
  }
  return bytes;
}

// The first violation whose text holds `needle`, searching kRuns inputs from `seed`.
std::optional<std::string> Search(const std::string& policy, std::string_view needle,
                                  int* runs_used) {
  std::mt19937 rng(20210115);  // the date of the seed mail
  for (int run = 1; run <= kRuns; ++run) {
    absl::StatusOr<MmOpsRun> r = RunMmOps(RandomInput(rng), policy);
    if (!r.ok()) return std::nullopt;
    for (const std::string& v : r->result.violations) {
      if (v.find(needle) != std::string::npos) {
        *runs_used = run;
        return FormatMmOpsRun(*r, policy);
      }
    }
  }
  return std::nullopt;
}

TEST(MmOpsTeethTest, MapcountLeaksThroughAPinTheWayVmspliceDid) {
  int runs = 0;
  std::optional<std::string> found = Search("mapcount", "isolation: h", &runs);
  ASSERT_TRUE(found.has_value()) << "no leak through a pin in " << kRuns << " runs";
  EXPECT_THAT(*found, HasSubstr("which its owner never held there"));
  std::printf("mapcount leak found after %d runs:\n%s", runs, found->c_str());
}

TEST(MmOpsTeethTest, RefcountLosesALongTermPinsCoherence) {
  int runs = 0;
  std::optional<std::string> found = Search("refcount", "long-term pin coherence", &runs);
  ASSERT_TRUE(found.has_value()) << "no incoherent long-term pin in " << kRuns << " runs";
  std::printf("refcount incoherence found after %d runs:\n%s", runs, found->c_str());
}

// Under mapcount and refcount a crash is expected only when every violation is of a kind the
// policy's header names (known_violations); the search must meet no other kind there. The kinds
// it met are printed: they are what the headers' lists rest on.
TEST(MmOpsTeethTest, TheOldPoliciesBreakOnlyTheirKnownBugClasses) {
  for (const char* policy : {"mapcount", "refcount"}) {
    std::mt19937 rng(20210115);
    std::map<std::string, int> seen;
    for (int run = 1; run <= kRuns; ++run) {
      absl::StatusOr<MmOpsRun> r = RunMmOps(RandomInput(rng), policy);
      ASSERT_TRUE(r.ok());
      for (const std::string& v : r->result.violations) ++seen[ViolationKind(v)];
      const std::vector<std::string> unexpected =
          UnexpectedViolationKinds(r->result.violations, policy);
      ASSERT_TRUE(unexpected.empty()) << policy << ": " << FormatMmOpsRun(*r, policy);
      if (!r->result.violations.empty()) {
        EXPECT_THAT(FormatMmOpsRun(*r, policy), HasSubstr("# crash: expected"));
      }
    }
    EXPECT_FALSE(seen.empty()) << policy << " broke nothing in " << kRuns << " runs";
    for (const auto& [kind, n] : seen) std::printf("%s: %s x%d\n", policy, kind.c_str(), n);
  }
}

TEST(MmOpsVerdictClassTest, AKindOutsideThePolicysKnownListIsUnexpected) {
  const std::vector<std::string> accounting = {"line 4: accounting: page 0 counter (bias): x"};
  EXPECT_THAT(UnexpectedViolationKinds(accounting, "mapcount"), testing::ElementsAre("accounting"));
  EXPECT_THAT(UnexpectedViolationKinds(accounting, "refcount"), testing::ElementsAre("accounting"));
  const std::vector<std::string> leak = {"line 7: anon-exclusive: page 0 is marked exclusive",
                                         "line 8: isolation: pipe of C read 2"};
  EXPECT_THAT(UnexpectedViolationKinds(leak, "mapcount"), testing::IsEmpty());
  // refcount's known bug is coherence loss; a leak there would be new.
  EXPECT_THAT(UnexpectedViolationKinds(leak, "refcount"),
              testing::ElementsAre("anon-exclusive", "isolation"));
  const std::vector<std::string> coherence = {"line 9: long-term pin coherence: h of P read 1"};
  EXPECT_THAT(UnexpectedViolationKinds(coherence, "refcount"), testing::IsEmpty());
  // The designs that are right know no bug: every kind is unexpected.
  for (const char* policy : {"split", "anon-exclusive", "ideal"}) {
    EXPECT_THAT(UnexpectedViolationKinds(coherence, policy),
                testing::ElementsAre("long-term pin coherence"));
  }
  // A line whose kind cannot be read is never taken for a known bug.
  EXPECT_THAT(UnexpectedViolationKinds({"garbled"}, "mapcount"),
              testing::ElementsAre("(unreadable)"));
  EXPECT_EQ(ViolationKind("line 12: long-term pin coherence: h: x"), "long-term pin coherence");
}

// The decoded script tells run_fuzz.py which it is, both ways.
TEST(MmOpsVerdictClassTest, TheDecodedScriptSaysWhetherTheCrashWasExpected) {
  // The vmsplice leak (tests/mm_script_test's script, as mm_ops bytes): known under mapcount.
  const std::string leak = {0, 0, 0, 0, 1,  0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0,
                            5, 1, 0, 0, 11, 1, 0, 0, 2, 0, 0, 0, 6, 0, 0, 0};
  absl::StatusOr<MmOpsRun> run = RunMmOps(leak, "mapcount");
  ASSERT_TRUE(run.ok());
  ASSERT_FALSE(run->result.violations.empty()) << FormatMmOpsRun(*run, "mapcount");
  EXPECT_THAT(FormatMmOpsRun(*run, "mapcount"), HasSubstr("# crash: expected"));
  // The same violations judged as refcount's would be new bugs of refcount.
  run->result.violations.push_back("line 99: accounting: page 0 is in use but its counter is dead");
  EXPECT_THAT(FormatMmOpsRun(*run, "mapcount"),
              HasSubstr("# crash: unexpected (not a known bug class of mapcount: accounting)"));
  absl::StatusOr<MmOpsRun> clean = RunMmOps(leak, "split");
  ASSERT_TRUE(clean.ok());
  EXPECT_THAT(FormatMmOpsRun(*clean, "split"), testing::Not(HasSubstr("# crash:")));
}

class MmOpsCleanTest : public testing::TestWithParam<std::string> {};

TEST_P(MmOpsCleanTest, FindsNothingInADesignThatIsRight) {
  int runs = 0;
  std::optional<std::string> found = Search(GetParam(), "", &runs);
  EXPECT_FALSE(found.has_value()) << *found;
}

INSTANTIATE_TEST_SUITE_P(Policies, MmOpsCleanTest,
                         testing::Values("split", "anon-exclusive", "ideal"), [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

TEST(MmOpsInputTest, DecodedRunsEncodeBackToInputsThatRunTheSameScript) {
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<MmOpsRun> first = RunMmOps(RandomInput(rng), "split");
    ASSERT_TRUE(first.ok());
    const std::string text = FormatMmOpsRun(*first, "split");
    absl::StatusOr<std::string> bytes = EncodeMmOps(text);
    ASSERT_TRUE(bytes.ok()) << bytes.status() << "\n" << text;
    absl::StatusOr<MmOpsRun> second = RunMmOps(*bytes, "split");
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(FormatMmOpsRun(*second, "split"), text);
  }
}

// A refused pin keeps its name in the script, so the next pin must get a new one: the decoded
// script of 17 pins on one page (the 16th and 17th refused: -EAGAIN) replays as it ran.
TEST(MmOpsInputTest, RefusedPinsKeepTheirNamesAndTheDecodeReplays) {
  std::string bytes = {0, 0, 0, 0, 1, 0, 0, 0};                   // spawn P0, map 0
  for (int i = 0; i < 17; ++i) bytes += std::string{5, 0, 0, 0};  // pin read P0 0
  absl::StatusOr<MmOpsRun> run = RunMmOps(bytes, "split");
  ASSERT_TRUE(run.ok());
  const std::string text = FormatMmOpsRun(*run, "split");
  EXPECT_THAT(text, HasSubstr("as h15 => full"));
  EXPECT_THAT(text, HasSubstr("as h16 => full"));
  absl::StatusOr<mm::MmScript> script = mm::ParseMmScript(text);
  ASSERT_TRUE(script.ok()) << script.status() << "\n" << text;
  absl::StatusOr<mm::MmReplayResult> replay = mm::ReplayMmScript(*script, mm::MmOptions{});
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->violations.empty());
  absl::StatusOr<std::string> encoded = EncodeMmOps(text);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  absl::StatusOr<MmOpsRun> again = RunMmOps(*encoded, "split");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(FormatMmOpsRun(*again, "split"), text);
}

// RunMmOps reuses one session per policy and thread, reset after each input: every run must
// end exactly as it does on a session built for it (the first on a new thread), whatever ran
// on the reused one before — script, violations, saturated leaks and every statistic alike.
TEST(MmOpsInputTest, AReusedSessionRunsEveryInputAsANewOneDoes) {
  std::mt19937 rng(11);
  int with_violations = 0;
  for (const char* policy : {"split", "anon-exclusive", "ideal", "mapcount", "refcount"}) {
    for (int i = 0; i < 100; ++i) {
      const std::string bytes = RandomInput(rng);
      absl::StatusOr<MmOpsRun> reused = RunMmOps(bytes, policy);
      ASSERT_TRUE(reused.ok());
      absl::StatusOr<MmOpsRun> fresh = absl::UnknownError("not run");
      std::thread([&] { fresh = RunMmOps(bytes, policy); }).join();
      ASSERT_TRUE(fresh.ok());
      const mm::MmReplayResult& a = reused->result;
      const mm::MmReplayResult& b = fresh->result;
      EXPECT_EQ(FormatMmOpsRun(*reused, policy), FormatMmOpsRun(*fresh, policy));
      EXPECT_EQ(a.failures, b.failures);
      EXPECT_EQ(a.saturated_leaks, b.saturated_leaks);
      EXPECT_EQ(a.steps, b.steps);
      EXPECT_EQ(a.stats.copies_at_fork, b.stats.copies_at_fork);
      EXPECT_EQ(a.stats.copies_at_fault, b.stats.copies_at_fault);
      EXPECT_EQ(a.stats.unshares, b.stats.unshares);
      EXPECT_EQ(a.stats.pins_refused, b.stats.pins_refused);
      EXPECT_EQ(a.stats.false_maybe_pinned, b.stats.false_maybe_pinned);
      EXPECT_EQ(a.stats.fast_pins, b.stats.fast_pins);
      EXPECT_EQ(a.stats.fast_pin_fallbacks, b.stats.fast_pin_fallbacks);
      EXPECT_EQ(a.stats.pages_allocated, b.stats.pages_allocated);
      EXPECT_EQ(a.stats.pages_freed, b.stats.pages_freed);
      with_violations += !a.violations.empty();
    }
  }
  EXPECT_GT(with_violations, 0) << "the comparison never saw a violation to compare";
}

TEST(MmOpsInputTest, EncodeRejectsWhatTheFormatCannotSay) {
  EXPECT_FALSE(EncodeMmOps("spawn A\nA map 0..3\n").ok());
  EXPECT_FALSE(EncodeMmOps("spawn A\nA map 9\n").ok());
  EXPECT_FALSE(EncodeMmOps("spawn A\nA frob\n").ok());
  EXPECT_FALSE(RunMmOps("", "no-such-policy").ok());
}

}  // namespace
}  // namespace pinsplit
