// SPDX-License-Identifier: MIT
// Racing misuse (racing_misuse.h): every schedule of small programs in which one thread breaks
// the contract (`thread N misuse OP`) while the others keep it, judged by the promises of
// split_refcount.h: the misuse is reported, the word's fields stay exact for the holders, no
// correct operation is lost and nothing is freed early.
//
// The programs (T3 is the misuser, dealt nothing; the start is dealt to T1 and T2):
//   borrow    refs=1 read=1   T1: put, try_get        T2: unpin read, pin read
//                             T3: misuse unpin write  (borrowed from the read field that T2's
//                             last drop and its pin race on, until issue 20; now refused)
//   underflow refs=0 write=1  T1: unpin write         T2: pin read, unpin read
//                             T3: misuse put          (refs zero while pins hold the object)
//   dead-get  refs=1          T1: put                 T2: try_get, pin write
//                             T3: misuse get, put     (a get racing the last drop)
//   top       refs=1 write=1  T1: get, put, put       T2: unpin write, try_get
//                             T3: misuse unpin read   (the top field borrows from nothing)
//   saturated saturated read=1  T1: put, get          T2: unpin read
//                             T3: misuse put, misuse get
//   window-drop refs=1        T1: put                 T2: try_get, put
//                             T3: misuse get          (T2 gets in through T3's window, drops)
//   wide      refs=2 read=1   T1: get, put, put       T2: put, try_get
//                             T3: unpin read, pin read  T4: misuse unpin write, misuse get
// Every schedule of each runs on every split layout (the same code with other constants; the
// smallest ordinary field, split:13/13/6, has zones 16 values wide), except `wide`, on the seed
// layout only. Schedules per layout: borrow 254, underflow 14,759, dead-get 230, top 646,
// saturated 2,640, window-drop 60 (18,589 in all, 0.2 s under ASan), and wide 201,723 (2.3 s
// under ASan); each test prints its counts. (Since issue 20 an unpin is a load and a
// compare-exchange that may retry, a refused one a load alone, and the last drop's move to
// DEAD a compare-exchange that can fail, which moved the counts.)
// Proof of teeth: broken:unpin-repair-store (broken_refcounts.h), whose repair stores back the
// value its fetch_sub returned (correct alone), loses the operations that race with it, and
// the explorer finds it on every search of the `borrow` and `teeth` programs; and
// broken:unpin-borrow, the pre-issue-20 unpin, wraps a full read field (the `carry` tests);
// broken:blind-mark-dead, the last drop's old unconditional move to DEAD, frees twice on
// `window-drop`.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "interleave_replay.h"
#include "pinsplit/interleave_script.h"

namespace pinsplit {
namespace {

struct Program {
  const char* name;
  const char* text;
};

constexpr Program kPrograms[] = {
    {"borrow",
     "set refs=1 read=1\n"
     "thread 1 put\nthread 1 try_get\n"
     "thread 2 unpin read\nthread 2 pin read\n"
     "thread 3 misuse unpin write\n"},
    {"underflow",
     "set refs=0 write=1\n"
     "thread 1 unpin write\n"
     "thread 2 pin read\nthread 2 unpin read\n"
     "thread 3 misuse put\n"},
    {"dead-get",
     "set refs=1\n"
     "thread 1 put\n"
     "thread 2 try_get\nthread 2 pin write\n"
     "thread 3 misuse get\nthread 3 put\n"},
    {"top",
     "set refs=1 write=1\n"
     "thread 1 get\nthread 1 put\nthread 1 put\n"
     "thread 2 unpin write\nthread 2 try_get\n"
     "thread 3 misuse unpin read\n"},
    {"saturated",
     "set saturated=yes read=1\n"
     "thread 1 put\nthread 1 get\n"
     "thread 2 unpin read\n"
     "thread 3 misuse put\nthread 3 misuse get\n"},
    {"window-drop",
     "set refs=1\n"
     "thread 1 put\n"
     "thread 2 try_get\nthread 2 put\n"
     "thread 3 misuse get\n"},
    {"wide",
     "set refs=1 read=1\n"
     "thread 1 put\nthread 1 try_get\n"
     "thread 2 unpin read\n"
     "thread 3 try_get\n"
     "thread 4 misuse unpin write\nthread 4 misuse get\n"},
};

constexpr Program kTeeth = {"teeth",
                            "set refs=1\n"
                            "thread 1 get\nthread 1 put\n"
                            "thread 2 misuse unpin write\n"};

InterleaveScript Parse(const char* text) {
  absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(text);
  EXPECT_TRUE(script.ok()) << script.status();
  return script.ok() ? *script : InterleaveScript{};
}

ExploreSummary Explore(const Program& p, const std::string& impl) {
  absl::StatusOr<ExploreSummary> summary = ExploreAllInterleavings(Parse(p.text), impl);
  EXPECT_TRUE(summary.ok()) << p.name << ": " << summary.status();
  return summary.ok() ? *summary : ExploreSummary{};
}

class RacingMisuseExhaustive : public testing::TestWithParam<const char*> {};

TEST_P(RacingMisuseExhaustive, EveryScheduleKeepsTheHeadersPromises) {
  std::size_t total = 0;
  for (const Program& p : kPrograms) {
    // The widest program's 399k schedules run on the seed layout only.
    if (std::string(p.name) == "wide" && std::string(GetParam()) != "split") continue;
    const ExploreSummary s = Explore(p, GetParam());
    total += s.interleavings;
    std::cout << "  " << GetParam() << " " << p.name << ": " << s.interleavings
              << " schedules (every one), " << s.violations << " violating\n";
    EXPECT_GT(s.interleavings, 10u) << p.name;
    ASSERT_EQ(s.violations, 0u) << p.name << ":\n"
                                << p.text << FormatInterleaveRun(Parse(p.text), *s.first_violation)
                                << "schedule "
                                << absl::StrJoin(s.first_violation->schedule.choices, " ");
  }
  std::cout << GetParam() << ": " << total << " schedules in all\n";
}

INSTANTIATE_TEST_SUITE_P(Layouts, RacingMisuseExhaustive,
                         testing::Values("split", "split:3/5/24", "split:2/6/24", "split:6/6/20",
                                         "split:8/8/16", "split:10/10/12", "split:13/13/6"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(RacingMisuseTest, TheMisuseIsReportedAndRefusedAlone) {
  // Sequentially (one schedule runs T3 after the others are done) the misuse is reported.
  absl::StatusOr<InterleaveRun> run = ReplayInterleaveScript(
      Parse("set refs=1\nthread 1 get\nthread 2 misuse unpin write\nschedule 1 1 1 2 2 2\n"),
      "split");
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->failures.empty()) << run->failures.front();
  ASSERT_TRUE(run->outcomes[1][0].ran);
  EXPECT_EQ(run->outcomes[1][0].misuse, std::vector<Misuse>{Misuse::kUnpinUnderflow});
  EXPECT_EQ(run->final_state.refs, 2u);
  EXPECT_EQ(run->final_state.write_pins, 0u);
}

TEST(RacingMisuseTest, TeethTheStoreRepairLosesARacingOperation) {
  for (const Program& p : {kTeeth, kPrograms[0]}) {
    const ExploreSummary broken = Explore(p, "broken:unpin-repair-store");
    std::cout << "broken:unpin-repair-store " << p.name << ": " << broken.violations << " of "
              << broken.interleavings << " schedules violate\n";
    ASSERT_GT(broken.violations, 0u) << p.name;
    const std::string& why = broken.first_violation->failures.front();
    EXPECT_NE(why.find("racing misuse"), std::string::npos) << why;
    // The first violating schedule replays to the same failure.
    InterleaveScript again = Parse(p.text);
    again.schedule = broken.first_violation->schedule.choices;
    absl::StatusOr<InterleaveRun> replay =
        ReplayInterleaveScript(again, "broken:unpin-repair-store");
    ASSERT_TRUE(replay.ok());
    EXPECT_EQ(replay->failures, broken.first_violation->failures);
    // The real repair keeps every promise on the same program.
    EXPECT_EQ(Explore(p, "split").violations, 0u) << p.name;
  }
  // Alone (no race) the broken repair is indistinguishable: one schedule, misuse last.
  absl::StatusOr<InterleaveRun> alone = ReplayInterleaveScript(
      Parse("set refs=1\nthread 1 get\nthread 1 put\nthread 2 misuse unpin write\n"
            "schedule 1 1 1 1 1 1 1 1\n"),
      "broken:unpin-repair-store");
  ASSERT_TRUE(alone.ok());
  EXPECT_TRUE(alone->failures.empty()) << alone->failures.front();
}

// Issue 20, fixed. The interleave fuzz target's misuse mode found it on the real counter (21:37
// UTC, 2026-12-05), when unpin was a fetch_sub: a misused unpin write borrowed one from the READ
// field, so a full read field read one below full until the repair landed; a racing pin read was
// admitted into the gap, and the repair's carry then wrapped the read field to zero (out of the
// top of the word). Held read pins vanished from the word, so a later put could answer kLast
// under them: an early free. unpin is now a compare-exchange that refuses an empty field without
// writing it. On every split layout, from one read pin below a full field, every schedule keeps
// every promise; the pre-fix unpin (broken:unpin-borrow) still loses the read pins on the same
// program, so the program still has the teeth that found the bug.
// The finding's program ("carry": two pins read against one misused unpin write) and a wider
// one ("carry-wide": the misuser unpins write twice, and a third thread takes and drops a
// reference, so a wrapped read field would let its put answer last).
std::string CarryProgram(const std::string& layout, bool wide = false) {
  // "split" is the seed layout 4/4/24; "split:R/W/O" names its read bits first.
  const unsigned read_bits = layout == "split" ? 4 : std::stoul(layout.substr(6));
  const unsigned one_below_full = (1u << read_bits) - 2;
  std::string text = "set refs=1 read=" + std::to_string(one_below_full) +
                     "\n"
                     "thread 1 pin read\nthread 1 pin read\n"
                     "thread 2 misuse unpin write\n";
  if (wide) text += "thread 2 misuse unpin write\nthread 3 try_get\nthread 3 put\n";
  return text;
}

TEST_P(RacingMisuseExhaustive, AMisusedUnpinNeverBorrowsSoAFullReadFieldNeverWraps) {
  for (const bool wide : {false, true}) {
    const std::string text = CarryProgram(GetParam(), wide);
    const ExploreSummary s = Explore({"carry", text.c_str()}, GetParam());
    std::cout << GetParam() << (wide ? " carry-wide: " : " carry: ") << s.interleavings
              << " schedules (every one), " << s.violations << " violating\n";
    // The refused unpin is one load now, so the finding's own program has few schedules.
    EXPECT_GT(s.interleavings, wide ? 10u : 3u);
    ASSERT_EQ(s.violations, 0u) << text
                                << FormatInterleaveRun(Parse(text.c_str()), *s.first_violation)
                                << "schedule "
                                << absl::StrJoin(s.first_violation->schedule.choices, " ");
  }
}

TEST(RacingMisuseTest, ThePreFixBorrowingUnpinStillWrapsAFullReadField) {
  const std::string wide = CarryProgram("split", true);
  const ExploreSummary w = Explore({"carry-wide", wide.c_str()}, "broken:unpin-borrow");
  std::cout << "broken:unpin-borrow carry-wide: " << w.violations << " of " << w.interleavings
            << " schedules violate\n";
  EXPECT_GT(w.violations, 0u);
  const std::string text = CarryProgram("split");
  const ExploreSummary s = Explore({"carry", text.c_str()}, "broken:unpin-borrow");
  std::cout << "broken:unpin-borrow carry: " << s.violations << " of " << s.interleavings
            << " schedules lose the read pins\n";
  ASSERT_GT(s.violations, 0u);
  const std::string& why = s.first_violation->failures.front();
  EXPECT_NE(why.find("pin fields read=0"), std::string::npos) << why;
  // The first violating schedule replays to the same failure.
  InterleaveScript again = Parse(text.c_str());
  again.schedule = s.first_violation->schedule.choices;
  absl::StatusOr<InterleaveRun> replay = ReplayInterleaveScript(again, "broken:unpin-borrow");
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->failures, s.first_violation->failures);
}

// Issue 20, fixed. The interleave fuzz target found it on the real counter during the speed runs
// (03:29 UTC, 2026-12-06; the seeds misused_get_lets_*.ops): a misused get lets a try_get into a
// dying object, and the last holder's unconditional move to DEAD then subtracted from the word
// the try_get held. The smallest program that shows it ("window-drop" above, clean on every
// layout now) still shows it on the old move.
TEST(RacingMisuseTest, ThePreFixBlindMarkDeadStillFreesTwice) {
  const Program& p = kPrograms[5];
  ASSERT_EQ(std::string(p.name), "window-drop");
  const ExploreSummary s = Explore(p, "broken:blind-mark-dead");
  std::cout << "broken:blind-mark-dead window-drop: " << s.violations << " of " << s.interleavings
            << " schedules violate\n";
  ASSERT_GT(s.violations, 0u);
  bool double_free = false;
  for (const std::string& why : s.first_violation->failures) {
    double_free |= why.find("answered last") != std::string::npos;
  }
  EXPECT_TRUE(double_free) << absl::StrJoin(s.first_violation->failures, "\n");
  InterleaveScript again = Parse(p.text);
  again.schedule = s.first_violation->schedule.choices;
  absl::StatusOr<InterleaveRun> replay = ReplayInterleaveScript(again, "broken:blind-mark-dead");
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->failures, s.first_violation->failures);
}

TEST(RacingMisuseTest, ScriptsRoundTripWithTheMisuseMark) {
  const InterleaveScript script = Parse(kPrograms[2].text);
  EXPECT_EQ(script.misuse_thread(), 2);
  EXPECT_TRUE(script.is_misuse(2, 0));
  EXPECT_FALSE(script.is_misuse(2, 1));
  const std::string text = FormatInterleaveScript(script);
  EXPECT_NE(text.find("thread 3 misuse get\nthread 3 put\n"), std::string::npos) << text;
  EXPECT_EQ(Parse(text.c_str()), script);
}

TEST(RacingMisuseTest, BadMisuseLinesAreRefusedWithTheirColumn) {
  struct Bad {
    const char* text;
    const char* message;
  };
  for (const Bad& b : {
           Bad{"thread 1 misuse\n", "line 1, column 16: expected an operation after 'misuse'"},
           Bad{"thread 1 misuse try_get\n", "line 1, column 17: 'try_get' is never misuse"},
           Bad{"thread 1 misuse pin read\n", "line 1, column 17: 'pin' is never misuse"},
           Bad{"thread 1 misuse put\nthread 2 misuse get\n",
               "line 2, column 8: misuse operations run in one thread (thread 1 has some)"},
       }) {
    absl::StatusOr<InterleaveScript> s = ParseInterleaveScript(b.text);
    ASSERT_FALSE(s.ok()) << b.text;
    EXPECT_NE(s.status().message().find(b.message), std::string::npos) << s.status();
  }
}

TEST(RacingMisuseTest, AMisuseNoCounterCouldSeeIsRefused) {
  // T1 holds a reference, so a misused put could take it unseen; T2 may pin read, so a misused
  // unpin read could take that pin.
  for (const char* text :
       {"thread 1 put\nthread 2 misuse put\n", "thread 1 pin read\nthread 2 misuse unpin read\n"}) {
    absl::StatusOr<std::unique_ptr<InterleaveRunner>> r =
        InterleaveRunner::Create(Parse(text), "split");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find("no counter could see it"), std::string::npos)
        << r.status();
  }
  // Only a split word makes the promises.
  for (const char* impl : {"bias", "plain"}) {
    absl::StatusOr<std::unique_ptr<InterleaveRunner>> r =
        InterleaveRunner::Create(Parse("thread 1 put\nthread 2 misuse get\n"), impl);
    ASSERT_FALSE(r.ok()) << impl;
    EXPECT_NE(r.status().message().find("makes none"), std::string::npos) << r.status();
  }
}

}  // namespace
}  // namespace pinsplit
