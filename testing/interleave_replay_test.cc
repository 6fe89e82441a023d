// SPDX-License-Identifier: MIT
#include "interleave_replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "deterministic_refcounts.h"
#include "pinsplit/any_refcount.h"

namespace pinsplit {
namespace {

using testing::HasSubstr;

InterleaveScript Parse(std::string_view text) {
  absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(text);
  EXPECT_TRUE(script.ok()) << script.status();
  return script.ok() ? *script : InterleaveScript{};
}

// One reference held by thread 1, one write pin by thread 2, and the schedule that opens the
// window between the broken put's fetch_sub and its re-read (unpin is a load and a
// compare-exchange: two steps of thread 2 fit in it).
constexpr char kPutUnpinRace[] =
    "set refs=1 write=1\n"
    "thread 1 put\n"
    "thread 2 unpin write\n"
    "schedule 1 2 2 1\n";

TEST(InterleaveReplayTest, TheRereadingPutFreesTwiceWhereTheRealPutDoesNot) {
  const InterleaveScript script = Parse(kPutUnpinRace);
  absl::StatusOr<InterleaveRun> broken = ReplayInterleaveScript(script, "broken:put-reread");
  ASSERT_TRUE(broken.ok()) << broken.status();
  EXPECT_EQ(broken->outcomes[0][0].result, "last");
  EXPECT_EQ(broken->outcomes[1][0].result, "last");
  EXPECT_FALSE(broken->verdict.linearizable);
  ASSERT_FALSE(broken->failures.empty());
  EXPECT_THAT(broken->failures.back(), HasSubstr("not linearizable"));

  absl::StatusOr<InterleaveRun> real = ReplayInterleaveScript(script, "split");
  ASSERT_TRUE(real.ok());
  EXPECT_TRUE(real->failures.empty()) << FormatInterleaveRun(script, *real);
  EXPECT_EQ(real->outcomes[0][0].result, "live");
  EXPECT_EQ(real->outcomes[1][0].result, "last");
  EXPECT_TRUE(real->final_state.dead);
}

TEST(InterleaveReplayTest, StepWindowsFollowTheSchedule) {
  const InterleaveScript script = Parse(
      "thread 1 get\n"
      "thread 1 put\n"
      "thread 2 pin read\n"
      "schedule 2 1 2\n");
  InterleaveOptions options;
  options.check_predicates = false;  // the history holds the operations alone
  absl::StatusOr<InterleaveRun> run = ReplayInterleaveScript(script, "split", options);
  ASSERT_TRUE(run.ok());
  // pin read is load + cas: T2 loads, T1's get moves the word, T2's cas fails and retries,
  // then T1's put.
  EXPECT_EQ(run->schedule.step_threads, (std::vector<int>{2, 1, 2, 2, 1}));
  ASSERT_EQ(run->history.size(), 3u);
  EXPECT_EQ(run->history[0].thread, 2);
  EXPECT_EQ(run->history[0].first_step, 0u);
  EXPECT_EQ(run->history[0].last_step, 3u);
  EXPECT_EQ(run->history[1].thread, 1);
  EXPECT_EQ(run->history[1].first_step, 1u);
  EXPECT_TRUE(run->failures.empty());
}

TEST(InterleaveReplayTest, AThreadNeverDropsWhatItDoesNotHold) {
  // Thread 2 starts with nothing: its put and unpin are skipped, its get too.
  const InterleaveScript script = Parse(
      "thread 1 put => last\n"
      "thread 2 get\n"
      "thread 2 put\n"
      "thread 2 unpin read\n");
  InterleaveOptions options;
  options.check_predicates = false;  // the history holds the operations alone
  absl::StatusOr<InterleaveRun> run = ReplayInterleaveScript(script, "split", options);
  ASSERT_TRUE(run.ok());
  EXPECT_FALSE(run->outcomes[1][0].ran);
  EXPECT_FALSE(run->outcomes[1][1].ran);
  EXPECT_FALSE(run->outcomes[1][2].ran);
  EXPECT_EQ(run->history.size(), 1u);
  EXPECT_TRUE(run->failures.empty());
}

TEST(InterleaveReplayTest, ResultAssertionsAndExpectsAreChecked) {
  const InterleaveScript script = Parse(
      "thread 1 put => live\n"
      "thread 2 try_get\n"
      "expect dead=no\n");
  absl::StatusOr<InterleaveRun> run = ReplayInterleaveScript(script, "split");
  ASSERT_TRUE(run.ok());
  // Thread 1 runs first (no schedule): its put is the last drop, try_get finds it dead.
  ASSERT_EQ(run->failures.size(), 2u) << FormatInterleaveRun(script, *run);
  EXPECT_THAT(run->failures[0], HasSubstr("line 1: thread 1 put => live: expected live, got last"));
  EXPECT_THAT(run->failures[1], HasSubstr("dead=no, got yes"));
}

TEST(InterleaveReplayTest, RefusesAStateTheCounterCannotHold) {
  const InterleaveScript script = Parse("set refs=1 read=16\nthread 1 get\n");
  absl::StatusOr<InterleaveRun> run = ReplayInterleaveScript(script, "split");
  ASSERT_FALSE(run.ok());
  EXPECT_THAT(run.status().message(), HasSubstr("line 1: split:4/4/24 cannot hold"));
  EXPECT_FALSE(ReplayInterleaveScript(script, "no-such-counter").ok());
}

TEST(InterleaveReplayTest, TheDeterministicRegistryCoversEveryShippedCounter) {
  std::set<std::string> shipped;
  for (const std::string& name : KnownRefcounts())
    shipped.insert(std::string((*MakeRefcount(name))->name()));
  const std::vector<std::string> correct = CorrectRefcountNames();
  EXPECT_EQ(std::set<std::string>(correct.begin(), correct.end()), shipped);
  for (const std::string& name : correct) {
    absl::StatusOr<std::unique_ptr<AnyRefcount>> det = MakeDeterministicRefcount(name);
    ASSERT_TRUE(det.ok());
    auto real = *MakeRefcount(name);
    EXPECT_EQ((*det)->name(), real->name());
    EXPECT_EQ((*det)->limits().max_refs, real->limits().max_refs);
    EXPECT_EQ((*det)->limits().max_read_pins, real->limits().max_read_pins);
  }
  EXPECT_TRUE(MakeDeterministicRefcount("split").ok());
  for (const std::string& name : BrokenRefcountNames()) {
    EXPECT_TRUE(MakeDeterministicRefcount(name).ok()) << name;
  }
}

TEST(InterleaveReplayTest, PredicatesAreReadAfterEveryOperationWithoutChangingTheSchedule) {
  const InterleaveScript script = Parse(
      "set refs=1 read=1\n"
      "thread 1 pin write\n"
      "thread 1 put\n"
      "thread 2 unpin read\n"
      "schedule 2 2 1 1 2\n");
  InterleaveOptions without;
  without.check_predicates = false;
  absl::StatusOr<InterleaveRun> plain = ReplayInterleaveScript(script, "split", without);
  absl::StatusOr<InterleaveRun> probed = ReplayInterleaveScript(script, "split");
  ASSERT_TRUE(plain.ok() && probed.ok());
  EXPECT_EQ(probed->schedule.step_threads, plain->schedule.step_threads);
  EXPECT_EQ(probed->schedule.choices, plain->schedule.choices);
  EXPECT_TRUE(probed->failures.empty()) << FormatInterleaveRun(script, *probed);
  ASSERT_EQ(probed->history.size(), 2 * plain->history.size());
  int probes = 0;
  for (const HistoryOp& h : probed->history) probes += h.probe ? 1 : 0;
  EXPECT_EQ(probes, 3);
  // T2's unpin read ran first (schedule 2): right after it, only T1's reference is left.
  EXPECT_EQ(Format(probed->outcomes[1][0].reading),
            "pinned=no writable=no dead=no saturated=no read=0 write=0 pins=0");
}

TEST(InterleaveReplayTest, APredicateThatDisagreesWithTheModelFailsTheRun) {
  // Thread 2 holds a read pin only: is_pinned_writable() must say no. The broken variant says
  // yes; every operation result and the final state are right, so only the readings differ.
  const InterleaveScript script = Parse(
      "set refs=1 read=1\n"
      "thread 1 get\n"
      "thread 2 pin read\n");
  absl::StatusOr<InterleaveRun> real = ReplayInterleaveScript(script, "split");
  ASSERT_TRUE(real.ok());
  EXPECT_TRUE(real->failures.empty()) << FormatInterleaveRun(script, *real);
  absl::StatusOr<InterleaveRun> broken =
      ReplayInterleaveScript(script, "broken:writable-predicate");
  ASSERT_TRUE(broken.ok());
  EXPECT_FALSE(broken->verdict.linearizable) << FormatInterleaveRun(script, *broken);
  EXPECT_EQ(Format(broken->outcomes[1][0].reading),
            "pinned=yes writable=yes dead=no saturated=no read=2 write=0 pins=2");
  InterleaveOptions without;
  without.check_predicates = false;
  absl::StatusOr<InterleaveRun> unchecked =
      ReplayInterleaveScript(script, "broken:writable-predicate", without);
  ASSERT_TRUE(unchecked.ok());
  EXPECT_TRUE(unchecked->failures.empty());
}

TEST(InterleaveReplayTest, TheRecordedScheduleReplaysARandomRunExactly) {
  const InterleaveScript script = Parse(
      "set refs=2 read=1\n"
      "thread 1 pin write\n"
      "thread 1 put\n"
      "thread 2 try_get\n"
      "thread 2 unpin read\n"
      "thread 3 get\n"
      "thread 3 put\n");
  absl::StatusOr<std::unique_ptr<InterleaveRunner>> runner =
      InterleaveRunner::Create(script, "bias");
  ASSERT_TRUE(runner.ok());
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    RandomChooser random(seed);
    const InterleaveRun first = (*runner)->Run(random);
    EXPECT_TRUE(first.failures.empty()) << FormatInterleaveRun(script, first);
    InterleaveScript replay = script;
    replay.schedule = first.schedule.choices;
    absl::StatusOr<InterleaveRun> again = ReplayInterleaveScript(replay, "bias");
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->schedule.step_threads, first.schedule.step_threads) << "seed " << seed;
  }
}

}  // namespace
}  // namespace pinsplit
