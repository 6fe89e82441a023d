// SPDX-License-Identifier: MIT
// WeakMemory: the state behind the deterministic scheduler's C++ memory-model mode
// (MemoryModel::kWeak, deterministic_scheduler.h): which stores each atomic location has seen,
// what each logical thread knows, and which stores a load may read.
//
// What it models (the C++20 model, operationally, the way loom and CDSChecker do it):
//   - Every store to a location goes to the end of that location's modification order (mo) at
//     the step it runs, and memory (the real std::atomic) always holds the newest value. A
//     read-modify-write reads the newest store (atomicity).
//   - A plain load may read any kept store that is not hidden. A store is hidden from a load
//     when a store later in mo is "must-see" for it: that later store happens before the load
//     (write-read coherence), or a read of it happens before the load (read-read coherence), or
//     one of the four seq_cst rules of [atomics.order] applies, with S the order in which the
//     seq_cst operations run: (1) a seq_cst load sees the last seq_cst store before it;
//     (2) a seq_cst load sees every store that happens before an earlier seq_cst fence; (3) a
//     load after (happens-after) a seq_cst fence sees every seq_cst store before that fence;
//     (4) a load after a seq_cst fence sees every store that happens before an earlier seq_cst
//     fence. The newest store is never hidden.
//   - Happens-before is tracked with vector clocks. An acquire load (or acquire RMW) that reads
//     a release store synchronises with it; an RMW continues the release sequence of the store
//     it read; a release fence makes the thread's later relaxed stores carry its view; an
//     acquire fence takes the views of the stores its thread's earlier relaxed loads read. A
//     seq_cst fence is an acq_rel fence plus rules (3) and (4); seq_cst loads and stores are
//     acquire and release plus rules (1) to (3). What rules (3) and (4) let a thread see travels
//     with happens-before, as C++20's wording ("happens before" in [atomics.order]) requires.
// What it does not model (so it can miss bugs, never invent them): loads that read from stores
// not yet run (load buffering, out-of-thin-air values), an mo that differs from the order the
// stores ran in, a failed compare-exchange reading an old value (it reads the newest), and
// non-atomic data (it always reads the newest value; the code keeps it under locks).
//
// Bounds (WeakMemoryBounds): each location keeps its last `history` stores, so a load reads at
// most history-1 stores back; and at most `max_stale_reads` loads per run read anything but the
// newest store, which keeps an exhaustive search of reads-from choices finite and small.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pinsplit {

inline constexpr int kWeakThreads = 5;  // index 0: set-up and observers, 1..4 logical threads
inline constexpr int kMaxWeakHistory = 8;

struct WeakMemoryBounds {
  int history = 3;          // stores kept per location, 1..kMaxWeakHistory
  int max_stale_reads = 1;  // loads per run that may read an older store than the newest
};

// Where a DeterministicAtomic's history lives in the current run: stamped with the run, so a
// location first touched in a run starts afresh from the value memory holds.
struct WeakLocationRef {
  std::uint64_t run = 0;
  std::uint32_t slot = 0;
};

class WeakMemory {
 public:
  using Clock = std::array<std::uint32_t, kWeakThreads>;
  // What a thread knows: its happens-before clock, the floor rule (4) gives it, and the
  // position in S of the last seq_cst fence that happens before it (rule 3).
  struct View {
    Clock hb{};
    Clock floor{};
    std::uint64_t sc_fence = 0;
    void Join(const View& other);
  };
  enum Ordering : unsigned { kAcquire = 1, kRelease = 2, kSeqCst = 4 };

  // A new run (a new stamp for every location).
  void Reset(const WeakMemoryBounds& bounds);

  // A load by `thread`: how many stores it may read (1 = only the newest), after which
  // FinishLoad(age) reads the store `age` back from the newest (0 <= age < candidates).
  int LoadCandidates(WeakLocationRef& ref, std::uint64_t memory_value, int thread,
                     unsigned ordering);
  std::uint64_t FinishLoad(int age);
  bool stale_reads_left() const { return stale_reads_ < bounds_.max_stale_reads; }

  // A store (plain or the write half of an RMW that read `memory_value`, the newest).
  void Store(WeakLocationRef& ref, std::uint64_t memory_value, std::uint64_t value, int thread,
             unsigned ordering, bool rmw);
  // A write by an observer (DeterministicScheduler::Unscheduled): a store that happens before
  // every thread, so no load reads past it.
  void ObserverStore(WeakLocationRef& ref, std::uint64_t memory_value, std::uint64_t value);
  // The read half of a failed compare-exchange: the newest store.
  void ReadNewest(WeakLocationRef& ref, std::uint64_t memory_value, int thread, unsigned ordering);
  void Fence(int thread, unsigned ordering);

  // True if `thread`'s access at `epoch` happens before where `observer` is now.
  bool HappensBefore(int thread, std::uint32_t epoch, int observer) const {
    return epoch <= views_[observer].hb[thread];
  }
  std::uint32_t Epoch(int thread) const { return views_[thread].hb[thread]; }

 private:
  struct Record {
    std::uint64_t value;
    int thread;
    std::uint32_t epoch;
    bool seq_cst;
    std::uint64_t s_position;  // in S, when seq_cst
    View release;              // what an acquire reading it (or its release sequence) gets
    Clock readers;             // per thread, the epoch of its latest read of this store
  };
  struct Location {
    std::array<Record, kMaxWeakHistory> ring;
    std::uint32_t count;  // stores so far; the newest is ring[(count - 1) % history]
  };

  Location& Locate(WeakLocationRef& ref, std::uint64_t memory_value);
  Record& ByAge(Location& loc, int age);
  int Kept(const Location& loc) const;
  bool MustSee(const Record& r, const View& v, bool seq_cst_load) const;
  void Acquired(int thread, const Record& r, unsigned ordering);
  void Push(Location& loc, Record r);

  WeakMemoryBounds bounds_;
  std::uint64_t run_ = 0;
  std::vector<Location> locations_;
  std::size_t used_ = 0;
  std::array<View, kWeakThreads> views_{};
  std::array<View, kWeakThreads> release_fence_{};  // the view at each thread's release fence
  std::array<View, kWeakThreads> pending_{};        // views read by relaxed loads since
  Clock fence_clocks_{};  // the join of the hb clocks of every seq_cst fence so far
  std::uint64_t s_next_ = 0;
  int stale_reads_ = 0;
  // The load in progress (between LoadCandidates and FinishLoad).
  Location* loading_ = nullptr;
  int loading_thread_ = 0;
  unsigned loading_ordering_ = 0;
};

}  // namespace pinsplit
