// SPDX-License-Identifier: MIT
// DeterministicAtomic<T>: a drop-in for std::atomic<T> as the `Atom` template argument of the
// counters (SplitRefcount<Layout, DeterministicAtomic> and friends).
//
// Every member that touches the value is one scheduling point: inside a
// DeterministicScheduler run it parks the calling logical thread until the scheduler picks it,
// then performs the access on a real std::atomic (so the memory orders are passed through and
// the code stays data-race free), and reports it for traces. Outside a run it is a plain
// std::atomic. compare_exchange_weak never fails spuriously here, so runs stay deterministic.
//
// In the scheduler's store-buffer mode (x86-TSO, deterministic_scheduler.h) a non-seq_cst store
// goes to the thread's buffer, a load reads the thread's newest buffered value for this atomic
// if there is one, and a seq_cst store or any read-modify-write first drains the thread's
// buffer. DeterministicFence is the matching std::atomic_thread_fence.
//
// In weak mode (the C++ memory model, weak_memory.h) memory holds the newest store; a load may
// read an older one (the scheduler's reads-from decision), and every access updates what the
// threads know (happens-before, coherence, the seq_cst rules).
#pragma once

#include <atomic>
#include <cstdint>

#include "deterministic_scheduler.h"

namespace pinsplit {

template <class T>
class DeterministicAtomic {
 public:
  DeterministicAtomic() noexcept = default;
  constexpr DeterministicAtomic(T value) noexcept : value_(value) {}  // NOLINT: like std::atomic
  DeterministicAtomic(const DeterministicAtomic&) = delete;
  DeterministicAtomic& operator=(const DeterministicAtomic&) = delete;

  T load(std::memory_order order = std::memory_order_seq_cst) const {
    DeterministicScheduler::BeforeAccess(this);
    std::uint64_t seen = 0;
    T v;
    if (DeterministicScheduler::WeakLoad(weak_, Raw(value_.load(std::memory_order_relaxed)), order,
                                         &seen) ||
        DeterministicScheduler::Forwarded(this, &seen)) {
      v = static_cast<T>(seen);
    } else {
      v = value_.load(order);
    }
    Report("load", v, v, true);
    return v;
  }

  void store(T desired, std::memory_order order = std::memory_order_seq_cst) {
    DeterministicScheduler::BeforeAccess(this);
    if (order != std::memory_order_seq_cst && DeterministicScheduler::Buffering()) {
      DeterministicScheduler::BufferStore(this, static_cast<std::uint64_t>(desired), &Commit);
      Report("store(buffered)", desired, desired, true);
      return;
    }
    DeterministicScheduler::DrainOwnBuffer();
    // Only the baton holder runs, so nothing can land between this load and the store.
    const T before = value_.load(std::memory_order_relaxed);
    value_.store(desired, order);
    DeterministicScheduler::WeakWrite(weak_, Raw(before), Raw(desired), order, false);
    Report("store", before, desired, true);
  }

  T exchange(T desired, std::memory_order order = std::memory_order_seq_cst) {
    DeterministicScheduler::BeforeAccess(this);
    DeterministicScheduler::DrainOwnBuffer();
    const T before = value_.exchange(desired, order);
    DeterministicScheduler::WeakWrite(weak_, Raw(before), Raw(desired), order, true);
    Report("exchange", before, desired, true);
    return before;
  }

  T fetch_add(T arg, std::memory_order order = std::memory_order_seq_cst) {
    DeterministicScheduler::BeforeAccess(this);
    DeterministicScheduler::DrainOwnBuffer();
    const T before = value_.fetch_add(arg, order);
    DeterministicScheduler::WeakWrite(weak_, Raw(before), Raw(static_cast<T>(before + arg)), order,
                                      true);
    Report("fetch_add", before, static_cast<T>(before + arg), true);
    return before;
  }

  T fetch_sub(T arg, std::memory_order order = std::memory_order_seq_cst) {
    DeterministicScheduler::BeforeAccess(this);
    DeterministicScheduler::DrainOwnBuffer();
    const T before = value_.fetch_sub(arg, order);
    DeterministicScheduler::WeakWrite(weak_, Raw(before), Raw(static_cast<T>(before - arg)), order,
                                      true);
    Report("fetch_sub", before, static_cast<T>(before - arg), true);
    return before;
  }

  bool compare_exchange_strong(T& expected, T desired, std::memory_order success,
                               std::memory_order failure) {
    DeterministicScheduler::BeforeAccess(this);
    DeterministicScheduler::DrainOwnBuffer();
    const T wanted = expected;
    const bool ok = value_.compare_exchange_strong(expected, desired, success, failure);
    if (ok) {
      DeterministicScheduler::WeakWrite(weak_, Raw(wanted), Raw(desired), success, true);
    } else {
      DeterministicScheduler::WeakReadNewest(weak_, Raw(expected), failure);
    }
    Report(ok ? "cas" : "cas(failed)", ok ? wanted : expected, ok ? desired : expected, ok);
    return ok;
  }
  bool compare_exchange_strong(T& expected, T desired,
                               std::memory_order order = std::memory_order_seq_cst) {
    return compare_exchange_strong(expected, desired, order, FailureOrder(order));
  }
  // Never fails spuriously: a spurious failure would be a choice the schedule does not record.
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success,
                             std::memory_order failure) {
    return compare_exchange_strong(expected, desired, success, failure);
  }
  bool compare_exchange_weak(T& expected, T desired,
                             std::memory_order order = std::memory_order_seq_cst) {
    return compare_exchange_strong(expected, desired, order, FailureOrder(order));
  }

 private:
  // What std::atomic derives for the single-order compare-exchange overloads.
  static constexpr std::memory_order FailureOrder(std::memory_order order) {
    if (order == std::memory_order_acq_rel) return std::memory_order_acquire;
    if (order == std::memory_order_release) return std::memory_order_relaxed;
    return order;
  }
  static std::uint64_t Raw(T v) { return static_cast<std::uint64_t>(v); }
  static void Commit(void* target, std::uint64_t value) {
    static_cast<DeterministicAtomic*>(target)->value_.store(static_cast<T>(value),
                                                            std::memory_order_relaxed);
  }
  static void Report(const char* what, T before, T after, bool ok) {
    DeterministicScheduler::AfterAccess(what, static_cast<std::uint64_t>(before),
                                        static_cast<std::uint64_t>(after), ok);
  }

  std::atomic<T> value_;
  // Weak mode: where this location's stores are kept in the current run.
  mutable WeakLocationRef weak_;
};

// std::atomic_thread_fence for code on DeterministicAtomic: a scheduling point; a seq_cst fence
// drains the thread's store buffer in store-buffer mode; in weak mode it acquires, releases and
// orders as the C++ model says (weak_memory.h).
inline void DeterministicFence(std::memory_order order) {
  DeterministicScheduler::BeforeAccess();
  if (order == std::memory_order_seq_cst) DeterministicScheduler::DrainOwnBuffer();
  DeterministicScheduler::WeakFence(order);
  std::atomic_thread_fence(order);
  DeterministicScheduler::AfterAccess("fence", 0, 0, true);
}

}  // namespace pinsplit
