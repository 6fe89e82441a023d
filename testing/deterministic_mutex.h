// SPDX-License-Identifier: MIT
// DeterministicMutex: a mutex for code running under the DeterministicScheduler, where a
// std::mutex would block the one OS thread the fibers share (a deadlock) or, on the thread
// engine, wait outside the schedule.
//
// Guarantees: mutual exclusion; lock() is a scheduling point (its compare-exchange) and a
// thread that finds the mutex held is parked (DeterministicScheduler::BlockOn) until the holder
// unlocks, so waiting costs no steps and an exhaustive search stays finite; a schedule in which
// every unfinished thread waits aborts as a deadlock. Orderings: lock acquires, unlock releases
// (unlock is an exchange, so in store-buffer mode it drains the holder's buffer and is never
// itself buffered). Meets BasicLockable and Lockable (std::lock_guard, std::unique_lock).
// Misuse: unlocking a mutex the caller does not hold is not detected. Outside a run it is a
// spin lock.
#pragma once

#include <atomic>

#include "deterministic_atomic.h"
#include "deterministic_scheduler.h"

namespace pinsplit {

class DeterministicMutex {
 public:
  DeterministicMutex() = default;
  DeterministicMutex(const DeterministicMutex&) = delete;
  DeterministicMutex& operator=(const DeterministicMutex&) = delete;

  void lock() {
    while (!try_lock()) DeterministicScheduler::BlockOn(this);
  }
  bool try_lock() {
    bool expected = false;
    return locked_.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                           std::memory_order_relaxed);
  }
  void unlock() {
    locked_.exchange(false, std::memory_order_release);
    DeterministicScheduler::WakeAll(this);
  }

 private:
  DeterministicAtomic<bool> locked_{false};
};

}  // namespace pinsplit
