// SPDX-License-Identifier: MIT
#include "deterministic_mutex.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <vector>

#include "deterministic_atomic.h"
#include "deterministic_scheduler.h"

namespace pinsplit {
namespace {

// Three threads increment a word with a load and a store under the mutex: every schedule, on
// both engines and with store buffers, ends at 3 (without the mutex some end lower:
// deterministic_scheduler_test's lost update). Waiting threads are parked, so the search ends.
void ExpectNoLostUpdate(SchedulerEngine engine, bool store_buffers) {
  DeterministicScheduler scheduler(engine);
  scheduler.set_store_buffers(store_buffers);
  ExhaustiveChooser chooser;
  std::set<std::uint32_t> finals;
  int schedules = 0;
  do {
    DeterministicMutex mu;
    DeterministicAtomic<std::uint32_t> word(0);
    auto increment = [&] {
      std::lock_guard lock(mu);
      word.store(word.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    };
    std::vector<std::function<void()>> bodies = {increment, increment, increment};
    scheduler.Run(bodies, chooser);
    finals.insert(word.load());
    ++schedules;
  } while (chooser.Advance());
  EXPECT_EQ(finals, std::set<std::uint32_t>{3});
  EXPECT_GT(schedules, 6);
}

TEST(DeterministicMutexTest, EverySchedulePreservesEveryIncrement) {
  ExpectNoLostUpdate(SchedulerEngine::kFibers, false);
  ExpectNoLostUpdate(SchedulerEngine::kThreads, false);
}

TEST(DeterministicMutexTest, UnlockPublishesBufferedStoresInStoreBufferMode) {
  ExpectNoLostUpdate(SchedulerEngine::kFibers, true);
}

TEST(DeterministicMutexTest, AWaiterIsParkedUntilTheHolderUnlocks) {
  DeterministicScheduler scheduler;
  DeterministicMutex mu;
  DeterministicAtomic<std::uint32_t> word(0);
  std::vector<std::function<void()>> bodies = {
      [&] {
        mu.lock();
        word.fetch_add(1);
        word.fetch_add(1);
        mu.unlock();
      },
      [&] {
        mu.lock();
        word.fetch_add(10);
        mu.unlock();
      },
  };
  // T1 takes the lock first; T2's try fails and parks it; only T1 runs until it unlocks.
  PreferenceChooser chooser({1, 2, 2, 2, 2});
  const RunOutcome outcome = scheduler.Run(bodies, chooser);
  EXPECT_EQ(word.load(), 12u);
  // T1: cas(lock) fetch_add fetch_add exchange(unlock); T2: cas (fails), cas, fetch_add, exchange.
  EXPECT_EQ(outcome.step_threads, (std::vector<int>{1, 2, 1, 1, 1, 2, 2, 2}));
}

void LockInOppositeOrders() {
  DeterministicScheduler scheduler;
  DeterministicMutex a, b;
  std::vector<std::function<void()>> bodies = {
      [&] {
        std::lock_guard first(a);
        std::lock_guard second(b);
      },
      [&] {
        std::lock_guard first(b);
        std::lock_guard second(a);
      },
  };
  PreferenceChooser chooser({1, 2});  // each takes its first lock, then waits for the other's
  scheduler.Run(bodies, chooser);
}

TEST(DeterministicMutexDeathTest, ADeadlockIsReportedNotHung) {
  EXPECT_DEATH(LockInOppositeOrders(), "deadlock");
}

}  // namespace
}  // namespace pinsplit
