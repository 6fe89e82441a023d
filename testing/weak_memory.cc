// SPDX-License-Identifier: MIT
#include "weak_memory.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace pinsplit {
namespace {

// Run stamps are unique across every WeakMemory, so an atomic used by two schedulers never
// mistakes another run's slot for its own.
std::atomic<std::uint64_t> next_run{1};

void JoinClock(WeakMemory::Clock& into, const WeakMemory::Clock& from) {
  for (int i = 0; i < kWeakThreads; ++i) into[i] = std::max(into[i], from[i]);
}

}  // namespace

void WeakMemory::View::Join(const View& other) {
  JoinClock(hb, other.hb);
  JoinClock(floor, other.floor);
  sc_fence = std::max(sc_fence, other.sc_fence);
}

void WeakMemory::Reset(const WeakMemoryBounds& bounds) {
  bounds_ = bounds;
  bounds_.history = std::clamp(bounds_.history, 1, kMaxWeakHistory);
  run_ = next_run.fetch_add(1, std::memory_order_relaxed);
  used_ = 0;
  for (int t = 0; t < kWeakThreads; ++t) {
    views_[t] = View{};
    views_[t].hb[0] = 1;  // the set-up before the run happens before every thread
    release_fence_[t] = View{};
    pending_[t] = View{};
  }
  fence_clocks_ = Clock{};
  s_next_ = 0;
  stale_reads_ = 0;
  loading_ = nullptr;
}

WeakMemory::Location& WeakMemory::Locate(WeakLocationRef& ref, std::uint64_t memory_value) {
  if (ref.run == run_) return locations_[ref.slot];
  if (used_ == locations_.size()) locations_.emplace_back();
  ref.run = run_;
  ref.slot = static_cast<std::uint32_t>(used_++);
  Location& loc = locations_[ref.slot];
  loc.count = 0;
  // The value memory held when the run first touched the location: stored by the set-up, so it
  // happens before everything in the run.
  Push(loc, Record{memory_value, 0, 1, false, 0, View{}, Clock{}});
  return loc;
}

int WeakMemory::Kept(const Location& loc) const {
  return static_cast<int>(std::min<std::uint32_t>(loc.count, bounds_.history));
}

WeakMemory::Record& WeakMemory::ByAge(Location& loc, int age) {
  const std::uint32_t index = loc.count - 1 - static_cast<std::uint32_t>(age);
  return loc.ring[index % static_cast<std::uint32_t>(bounds_.history)];
}

void WeakMemory::Push(Location& loc, Record r) {
  loc.ring[loc.count % static_cast<std::uint32_t>(bounds_.history)] = r;
  ++loc.count;
}

bool WeakMemory::MustSee(const Record& r, const View& v, bool seq_cst_load) const {
  if (r.epoch <= v.hb[r.thread]) return true;     // the store happens before the load
  if (r.epoch <= v.floor[r.thread]) return true;  // rule (4)
  for (int u = 0; u < kWeakThreads; ++u) {
    if (r.readers[u] != 0 && r.readers[u] <= v.hb[u]) return true;  // a read of it does
  }
  if (r.seq_cst && r.s_position < v.sc_fence) return true;  // rule (3)
  if (seq_cst_load) {
    if (r.seq_cst) return true;                           // rule (1)
    if (r.epoch <= fence_clocks_[r.thread]) return true;  // rule (2)
  }
  return false;
}

int WeakMemory::LoadCandidates(WeakLocationRef& ref, std::uint64_t memory_value, int thread,
                               unsigned ordering) {
  Location& loc = Locate(ref, memory_value);
  View& v = views_[thread];
  ++v.hb[thread];
  loading_ = &loc;
  loading_thread_ = thread;
  loading_ordering_ = ordering;
  const int kept = Kept(loc);
  int age = 0;
  while (age + 1 < kept && !MustSee(ByAge(loc, age), v, (ordering & kSeqCst) != 0)) ++age;
  return age + 1;
}

std::uint64_t WeakMemory::FinishLoad(int age) {
  if (loading_ == nullptr) {
    std::fprintf(stderr, "WeakMemory: FinishLoad without a load\n");
    std::abort();
  }
  if (age > 0) ++stale_reads_;
  Record& r = ByAge(*loading_, age);
  const int t = loading_thread_;
  r.readers[t] = views_[t].hb[t];
  Acquired(t, r, loading_ordering_);
  loading_ = nullptr;
  return r.value;
}

void WeakMemory::Acquired(int thread, const Record& r, unsigned ordering) {
  if ((ordering & kAcquire) != 0) {
    views_[thread].Join(r.release);
  } else {
    pending_[thread].Join(r.release);
  }
}

void WeakMemory::ReadNewest(WeakLocationRef& ref, std::uint64_t memory_value, int thread,
                            unsigned ordering) {
  Location& loc = Locate(ref, memory_value);
  View& v = views_[thread];
  ++v.hb[thread];
  Record& r = ByAge(loc, 0);
  r.readers[thread] = v.hb[thread];
  Acquired(thread, r, ordering);
}

void WeakMemory::Store(WeakLocationRef& ref, std::uint64_t memory_value, std::uint64_t value,
                       int thread, unsigned ordering, bool rmw) {
  Location& loc = Locate(ref, memory_value);
  View& v = views_[thread];
  View release = (ordering & kRelease) != 0 ? v : release_fence_[thread];
  if (rmw) {
    // The read half first: an acquire RMW synchronises before it publishes, and the store
    // continues the release sequence of the one it read.
    const Record& read = ByAge(loc, 0);
    Acquired(thread, read, ordering);
    if ((ordering & kRelease) != 0) release = v;
    release.Join(read.release);
  }
  const std::uint32_t epoch = ++v.hb[thread];
  if ((ordering & kRelease) != 0) release.hb[thread] = epoch;
  const bool seq_cst = (ordering & kSeqCst) != 0;
  Push(loc, Record{value, thread, epoch, seq_cst, seq_cst ? ++s_next_ : 0, release, Clock{}});
}

void WeakMemory::ObserverStore(WeakLocationRef& ref, std::uint64_t memory_value,
                               std::uint64_t value) {
  Push(Locate(ref, memory_value), Record{value, 0, 1, false, 0, View{}, Clock{}});
}

void WeakMemory::Fence(int thread, unsigned ordering) {
  View& v = views_[thread];
  if ((ordering & kAcquire) != 0) {
    v.Join(pending_[thread]);
    pending_[thread] = View{};
  }
  if ((ordering & kSeqCst) != 0) {
    JoinClock(v.floor, fence_clocks_);  // rule (4): what happens before earlier fences
    v.sc_fence = ++s_next_;             // rule (3): seq_cst stores before this fence
    JoinClock(fence_clocks_, v.hb);
  }
  if ((ordering & kRelease) != 0) release_fence_[thread] = v;
}

}  // namespace pinsplit
