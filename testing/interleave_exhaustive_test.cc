// Every interleaving of small programs on every kind of counter must linearize.
//
// The program set, and why it covers every operation kind in the races that matter:
//   2 threads x 3 operations
//     A  T1: get, put, put               T2: try_get, pin write, unpin write
//     B  T1: pin read, unpin read, put   T2: put, try_get, get
//   3 threads x 2 operations
//     C  T1: put, pin write    T2: try_get, put          T3: pin read, unpin read
//     D  T1: get, put          T2: unpin read, try_get   T3: pin write, unpin write
// A and B alone run every kind (get, try_get, put, pin read/write, unpin read/write); all four
// race a last drop (put or unpin) against the resurrection attempts that must fail after it
// (try_get, pin) and against the other kind of holder, which is where a split word can go
// wrong. The initial states sit near the edges and are dealt to the threads by the ownership
// rules of interleave_replay.h:
//   one reference (the default)            A B C D
//   refs=0 and one read pin                A B C D   (a pin alone keeps the object alive)
//   both pin fields one below full         A B D     (the next pin fills, the one after: full)
//   refs at the maximum                    A B       (the next get saturates or is refused)
// on every shipped counter: every split layout, bias and plain. The test also
// checks that every kind really ran (was not skipped) in some interleaving on each counter.
//
// Runtime: a program's schedules are the interleavings of its threads' accesses (a CAS loop is
// two or more), so a thread holding more accesses multiplies the count. C from the near-full
// state (13k schedules: every thread holds pins, nothing is skipped) and C, D from refs=max
// (saturation slow paths, 40k+) are left out to keep each counter near 12k schedules, about
// 1-2 s natively and a few seconds under ASan on two cores; ctest runs the counters in parallel.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "interleave_replay.h"
#include "pinsplit/interleave_script.h"

namespace pinsplit {
namespace {

struct Program {
  const char* name;
  const char* text;
};

constexpr Program kA = {"A",
                        "thread 1 get\nthread 1 put\nthread 1 put\n"
                        "thread 2 try_get\nthread 2 pin write\nthread 2 unpin write\n"};
constexpr Program kB = {"B",
                        "thread 1 pin read\nthread 1 unpin read\nthread 1 put\n"
                        "thread 2 put\nthread 2 try_get\nthread 2 get\n"};
constexpr Program kC = {"C",
                        "thread 1 put\nthread 1 pin write\nthread 2 try_get\n"
                        "thread 2 put\nthread 3 pin read\nthread 3 unpin read\n"};
constexpr Program kD = {"D",
                        "thread 1 get\nthread 1 put\nthread 2 unpin read\n"
                        "thread 2 try_get\nthread 3 pin write\nthread 3 unpin write\n"};

struct StartCase {
  std::string set;  // "" is the default: one reference
  std::vector<Program> programs;
};

struct CounterCase {
  const char* impl;
  std::vector<StartCase> starts;
};

// The four starting states of the header comment, in each counter's own numbers.
CounterCase Make(const char* impl, const char* near_full_pins, const char* max_refs) {
  return {impl,
          {{"", {kA, kB, kC, kD}},
           {"set refs=0 read=1", {kA, kB, kC, kD}},
           {near_full_pins, {kA, kB, kD}},
           {max_refs, {kA, kB}}}};
}

std::vector<CounterCase> Cases() {
  return {
      Make("split", "set refs=1 read=14 write=14", "set refs=4194303"),
      Make("split:3/5/24", "set refs=1 read=6 write=30", "set refs=4194303"),
      Make("split:2/6/24", "set refs=1 read=2 write=62", "set refs=4194303"),
      Make("split:6/6/20", "set refs=1 read=62 write=62", "set refs=262143"),
      Make("split:8/8/16", "set refs=1 read=254 write=254", "set refs=16383"),
      Make("split:10/10/12", "set refs=1 read=1022 write=1022", "set refs=1023"),
      // The smallest ordinary field (15 references): overflow is two steps away.
      Make("split:13/13/6", "set refs=1 read=8190 write=8190", "set refs=15"),
      // bias has one pin count (max 2097151): one below full. plain has no pin limit.
      Make("bias", "set refs=1 read=2097150", "set refs=2147483646"),
      // plain wraps past 2^32-1 (documented overflow misuse, racy like every misuse), so its
      // "maximum" is as near the wrap as the programs' takes can go without wrapping.
      Make("plain", "set refs=1 read=1 write=1", "set refs=4294967290"),
  };
}

class InterleaveExhaustiveTest : public testing::TestWithParam<CounterCase> {};

TEST_P(InterleaveExhaustiveTest, EveryInterleavingOfEveryProgramLinearizes) {
  const CounterCase& c = GetParam();
  unsigned kinds_ran = 0;
  std::size_t total = 0;
  for (const StartCase& start : c.starts) {
    for (const Program& program : start.programs) {
      const std::string& initial = start.set;
      const std::string text = absl::StrCat(initial, "\n", program.text);
      absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(text);
      ASSERT_TRUE(script.ok()) << script.status();
      absl::StatusOr<ExploreSummary> summary = ExploreAllInterleavings(*script, c.impl);
      ASSERT_TRUE(summary.ok()) << summary.status();
      total += summary->interleavings;
      kinds_ran |= summary->kinds_ran;
      ASSERT_EQ(summary->violations, 0u)
          << c.impl << " program " << program.name << " from '" << initial << "':\n"
          << text << "first violation:\n"
          << FormatInterleaveRun(*script, *summary->first_violation) << "schedule "
          << absl::StrJoin(summary->first_violation->schedule.choices, " ");
      EXPECT_GT(summary->interleavings, 1u) << program.name << " " << initial;
    }
  }
  EXPECT_EQ(kinds_ran, kAllKindBits) << c.impl << ": some operation kind never ran";
  std::cout << c.impl << ": " << total << " interleavings, all linearizable\n";
}

INSTANTIATE_TEST_SUITE_P(Counters, InterleaveExhaustiveTest, testing::ValuesIn(Cases()),
                         [](const auto& info) {
                           std::string name = info.param.impl;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(InterleaveExhaustiveBrokenTest, FindsTheDoubleFreeOfTheRereadingPut) {
  absl::StatusOr<InterleaveScript> script =
      ParseInterleaveScript("set refs=1 write=1\nthread 1 put\nthread 2 unpin write\n");
  ASSERT_TRUE(script.ok());
  absl::StatusOr<ExploreSummary> broken = ExploreAllInterleavings(*script, "broken:put-reread");
  ASSERT_TRUE(broken.ok());
  EXPECT_GT(broken->violations, 0u);
  absl::StatusOr<ExploreSummary> real = ExploreAllInterleavings(*script, "split");
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(real->violations, 0u);
}

TEST(InterleaveExhaustiveBrokenTest, CannotSeeTheRelaxedLastDropWhichOnlyChangesOrdering) {
  // Documented limit: the explorer runs every access sequentially consistent, so a missing
  // acquire changes nothing it can observe. The TSan storms own that bug.
  absl::StatusOr<InterleaveScript> script =
      ParseInterleaveScript("set refs=2\nthread 1 put\nthread 2 put\n");
  ASSERT_TRUE(script.ok());
  absl::StatusOr<ExploreSummary> relaxed =
      ExploreAllInterleavings(*script, "broken:put-relaxed-last");
  ASSERT_TRUE(relaxed.ok());
  EXPECT_EQ(relaxed->violations, 0u);
  EXPECT_GT(relaxed->interleavings, 1u);
}

}  // namespace
}  // namespace pinsplit
