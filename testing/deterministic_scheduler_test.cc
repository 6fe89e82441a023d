// SPDX-License-Identifier: MIT
#include "deterministic_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <set>
#include <thread>
#include <vector>

#include "deterministic_atomic.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
// TsanReportsARaceBetweenAFiberAndAnotherThread needs TSan to stop at its report (the tsan test
// preset sets this too; by default the statement would finish and the child "fail to die").
extern "C" const char* __tsan_default_options() { return "halt_on_error=1"; }
#endif
#endif

namespace pinsplit {
namespace {

TEST(DeterministicSchedulerTest, ExhaustiveChooserRunsEveryInterleavingOfTwoThreadsExactlyOnce) {
  DeterministicScheduler scheduler;
  ExhaustiveChooser chooser;
  std::set<std::vector<int>> seen;
  int runs = 0;
  do {
    DeterministicAtomic<std::uint32_t> word(0);
    std::vector<std::function<void()>> bodies = {
        [&] {
          word.fetch_add(1);
          word.fetch_add(1);
        },
        [&] {
          word.fetch_add(10);
          word.fetch_add(10);
        },
    };
    RunOutcome outcome = scheduler.Run(bodies, chooser);
    EXPECT_EQ(word.load(), 22u);
    EXPECT_EQ(outcome.step_threads.size(), 4u);
    seen.insert(outcome.step_threads);
    ++runs;
  } while (chooser.Advance());
  EXPECT_EQ(runs, 6);  // 4! / (2! 2!)
  EXPECT_EQ(seen.size(), 6u);
}

// Schedules of two threads with three accesses each, by number of preemptions: C(6,3) = 20 in
// all. A schedule of k blocks (runs of one thread) has k - 1 switches, the last of which leaves
// a finished thread, so k - 2 preemptions: 2 schedules with none (T1 then T2, T2 then T1), then
// 4 with one, 8 with two, 4 with three, 2 with four.
TEST(DeterministicSchedulerTest, APreemptionBoundRunsExactlyTheSchedulesWithinIt) {
  DeterministicScheduler scheduler;
  const int expected[] = {2, 6, 14, 18, 20};
  for (int bound = 0; bound <= 4; ++bound) {
    ExhaustiveChooser chooser(bound);
    std::set<std::vector<int>> seen;
    int runs = 0;
    do {
      DeterministicAtomic<std::uint32_t> word(0);
      std::vector<std::function<void()>> bodies = {
          [&] {
            for (int i = 0; i < 3; ++i) word.fetch_add(1);
          },
          [&] {
            for (int i = 0; i < 3; ++i) word.fetch_add(1);
          },
      };
      const RunOutcome outcome = scheduler.Run(bodies, chooser);
      int switches = 0;
      for (std::size_t s = 1; s < outcome.step_threads.size(); ++s) {
        switches += outcome.step_threads[s] != outcome.step_threads[s - 1];
      }
      // A switch is a preemption unless the thread left had finished (then it is the last one).
      EXPECT_LE(switches - 1, bound);
      seen.insert(outcome.step_threads);
      ++runs;
    } while (chooser.Advance());
    EXPECT_EQ(runs, expected[bound]) << "bound " << bound;
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(runs)) << "bound " << bound;
  }
}

TEST(DeterministicSchedulerTest, ExhaustiveChooserFindsTheLostUpdateOfALoadThenStore) {
  DeterministicScheduler scheduler;
  ExhaustiveChooser chooser;
  std::set<std::uint32_t> finals;
  do {
    DeterministicAtomic<std::uint32_t> word(0);
    auto increment = [&] { word.store(word.load() + 1); };
    std::vector<std::function<void()>> bodies = {increment, increment, increment};
    scheduler.Run(bodies, chooser);
    finals.insert(word.load());
  } while (chooser.Advance());
  EXPECT_EQ(finals, (std::set<std::uint32_t>{1, 2, 3}));
}

TEST(DeterministicSchedulerTest, RecordedChoicesReplayTheSameRunExactly) {
  DeterministicScheduler scheduler;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    auto program = [](DeterministicAtomic<std::uint32_t>& word) {
      return std::vector<std::function<void()>>{
          [&] {
            for (int i = 0; i < 3; ++i) word.fetch_add(1);
          },
          [&] {
            std::uint32_t v = word.load();
            word.compare_exchange_strong(v, v * 2);
          },
          [&] {
            word.fetch_sub(1);
            word.load();
          },
      };
    };
    DeterministicAtomic<std::uint32_t> first(5);
    RandomChooser random(seed);
    const RunOutcome original = scheduler.Run(program(first), random);
    DeterministicAtomic<std::uint32_t> second(5);
    PreferenceChooser replay(original.choices);
    const RunOutcome again = scheduler.Run(program(second), replay);
    EXPECT_EQ(again.step_threads, original.step_threads) << "seed " << seed;
    EXPECT_EQ(again.choices, original.choices) << "seed " << seed;
    EXPECT_EQ(second.load(), first.load()) << "seed " << seed;
  }
}

TEST(DeterministicSchedulerTest, EveryThreadReachesItsFirstAccessBeforeTheFirstDecision) {
  DeterministicScheduler scheduler;
  DeterministicAtomic<std::uint32_t> word(0);
  int started = 0;
  int started_at_first_access = -1;
  std::vector<std::function<void()>> bodies = {
      [&] {
        ++started;
        word.fetch_add(1);
        if (started_at_first_access < 0) started_at_first_access = started;
      },
      [&] {
        ++started;
        word.fetch_add(1);
        if (started_at_first_access < 0) started_at_first_access = started;
      },
  };
  PreferenceChooser chooser({2});
  const RunOutcome outcome = scheduler.Run(bodies, chooser);
  EXPECT_EQ(started_at_first_access, 2);
  EXPECT_EQ(outcome.step_threads, (std::vector<int>{2, 1}));
  EXPECT_EQ(outcome.choices, (std::vector<int>{2}));
}

TEST(DeterministicSchedulerTest, PreferenceFallsToTheNextRunnableThreadCyclically) {
  const std::vector<int> runnable = {1, 3};
  EXPECT_EQ(PreferredOrNext(runnable, 1), 1);
  EXPECT_EQ(PreferredOrNext(runnable, 2), 3);
  EXPECT_EQ(PreferredOrNext(runnable, 4), 1);
  EXPECT_EQ(PreferredOrNext(runnable, 3), 3);
}

TEST(DeterministicSchedulerTest, AnExhaustedScheduleKeepsRunningTheLastThread) {
  DeterministicScheduler scheduler;
  DeterministicAtomic<std::uint32_t> word(0);
  std::vector<std::function<void()>> bodies = {
      [&] {
        word.fetch_add(1);
        word.fetch_add(1);
        word.fetch_add(1);
      },
      [&] {
        word.fetch_add(1);
        word.fetch_add(1);
      },
  };
  PreferenceChooser chooser({2});
  const RunOutcome outcome = scheduler.Run(bodies, chooser);
  EXPECT_EQ(outcome.step_threads, (std::vector<int>{2, 2, 1, 1, 1}));
}

TEST(DeterministicSchedulerTest, OutsideARunTheAtomicIsAPlainAtomic) {
  DeterministicAtomic<std::uint32_t> word(7);
  std::uint32_t expected = 7;
  EXPECT_TRUE(word.compare_exchange_weak(expected, 9, std::memory_order_acquire,
                                         std::memory_order_relaxed));
  EXPECT_EQ(word.fetch_sub(2, std::memory_order_release), 9u);
  EXPECT_EQ(word.load(std::memory_order_acquire), 7u);
  EXPECT_EQ(DeterministicScheduler::CurrentThread(), 0);
}

TEST(DeterministicSchedulerTest, RecordsEveryAccessWithTheWordBeforeAndAfter) {
  DeterministicScheduler scheduler;
  scheduler.record_accesses(true);
  DeterministicAtomic<std::uint32_t> word(1);
  std::vector<std::function<void()>> bodies = {
      [&] { word.fetch_add(4); },
      [&] {
        std::uint32_t v = 0;
        word.compare_exchange_strong(v, 3);
      },
  };
  PreferenceChooser chooser({1});
  scheduler.Run(bodies, chooser);
  ASSERT_EQ(scheduler.accesses().size(), 2u);
  EXPECT_EQ(scheduler.accesses()[0].thread, 1);
  EXPECT_EQ(scheduler.accesses()[0].before, 1u);
  EXPECT_EQ(scheduler.accesses()[0].after, 5u);
  EXPECT_FALSE(scheduler.accesses()[1].succeeded);
}

// Not in the swapcontext build (deterministic_scheduler_ucontext_test): ASan intercepts
// swapcontext and clears the shadow of the stack it switches to, and in that build this overflow
// goes unreported (measured with clang 14), a limit fiber.h states.
#if defined(__has_feature) && !defined(PINSPLIT_SCHEDULER_TEST_ON_UCONTEXT)
#if __has_feature(address_sanitizer)
// The fiber switches are annotated, so ASan knows the fiber stacks and still names a stack
// overflow there as one (an unannotated switch would confuse or silence it).
int OverflowALocalArray(int i) {
  volatile int local[4] = {1, 2, 3, 4};
  volatile int* through_a_pointer = local;  // past UBSan's bounds check, into ASan's
  return through_a_pointer[i];
}

void OverflowInsideTheSecondFiber() {
  DeterministicScheduler scheduler;
  DeterministicAtomic<std::uint32_t> word(0);
  volatile int index = 4;
  std::vector<std::function<void()>> bodies = {
      [&] { word.fetch_add(1); },
      [&] {
        word.fetch_add(1);
        word.fetch_add(static_cast<std::uint32_t>(OverflowALocalArray(index)));
      },
  };
  PreferenceChooser chooser({1, 2});
  scheduler.Run(bodies, chooser);
}

TEST(DeterministicSchedulerDeathTest, AsanReportsAStackOverflowInsideAFiber) {
  EXPECT_DEATH(OverflowInsideTheSecondFiber(), "stack-buffer-overflow");
}
#endif
#endif

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
// The fiber switches are announced to TSan, so a logical thread racing with code outside the
// run (another OS thread) is still reported, with the fiber's own shadow stack.
int RaceBetweenAFiberAndAnotherThread() {
  int shared = 0;
  std::atomic<bool> go{false};
  std::thread other([&] {
    while (!go.load(std::memory_order_relaxed)) {
    }
    shared = 2;  // no happens-before with the fiber's write
  });
  DeterministicScheduler scheduler;
  DeterministicAtomic<std::uint32_t> word(0);
  std::vector<std::function<void()>> bodies = {
      [&] {
        word.fetch_add(1);
        shared = 1;
        go.store(true, std::memory_order_relaxed);
        word.fetch_add(1);
      },
      [&] { word.fetch_add(1); },
  };
  PreferenceChooser chooser({1, 2, 1});
  scheduler.Run(bodies, chooser);
  other.join();
  return shared;
}

TEST(DeterministicSchedulerDeathTest, TsanReportsARaceBetweenAFiberAndAnotherThread) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(std::printf("%d\n", RaceBetweenAFiberAndAnotherThread()), "data race");
}
#endif
#endif

}  // namespace
}  // namespace pinsplit
