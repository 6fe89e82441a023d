// SPDX-License-Identifier: MIT
// The deterministic scheduler's memory models on the classic litmus tests: for each, the set of
// outcomes an exhaustive search reaches under the sequential, x86-TSO and C++ weak modes must be
// exactly what each model allows (weak_memory.h says what the weak mode models). A test fails
// if a mode shows an outcome its model forbids (the mode would invent bugs) or misses one its
// model allows within the bounds (the mode would hide them).
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <vector>

#include "deterministic_atomic.h"
#include "deterministic_scheduler.h"

namespace pinsplit {
namespace {

using Outcome = std::vector<std::uint64_t>;
constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kAcquire = std::memory_order_acquire;
constexpr auto kRelease = std::memory_order_release;
constexpr auto kSeqCst = std::memory_order_seq_cst;

// One litmus test: fresh state per run, its threads, and what it observed.
class Litmus {
 public:
  virtual ~Litmus() = default;
  virtual std::vector<std::function<void()>> Bodies() = 0;
  virtual Outcome Observed() const = 0;
};

struct Search {
  std::set<Outcome> outcomes;
  long schedules = 0;
};

template <class L, class... Args>
Search ExploreOn(SchedulerEngine engine, MemoryModel model, WeakMemoryBounds bounds, Args... args) {
  DeterministicScheduler scheduler(engine);
  scheduler.set_memory_model(model, bounds);
  ExhaustiveChooser chooser;
  Search s;
  do {
    L litmus(args...);
    const std::vector<std::function<void()>> bodies = litmus.Bodies();
    scheduler.Run(bodies, chooser);
    s.outcomes.insert(litmus.Observed());
    ++s.schedules;
  } while (chooser.Advance());
  return s;
}

template <class L, class... Args>
Search Explore(MemoryModel model, WeakMemoryBounds bounds, Args... args) {
  return ExploreOn<L>(SchedulerEngine::kFibers, model, bounds, args...);
}

template <class L, class... Args>
bool Reaches(MemoryModel model, const Outcome& outcome, Args... args) {
  return Explore<L>(model, WeakMemoryBounds{3, 2}, args...).outcomes.count(outcome) > 0;
}

// Store buffering: x = 1; r1 = y  ||  y = 1; r2 = x. r1 = r2 = 0 needs a store to wait.
struct StoreBuffering : Litmus {
  StoreBuffering(std::memory_order order, bool fence1, bool fence2)
      : order(order), fence1(fence1), fence2(fence2) {}
  std::memory_order order;
  bool fence1, fence2;
  DeterministicAtomic<int> x{0}, y{0};
  std::uint64_t r1 = 9, r2 = 9;
  std::vector<std::function<void()>> Bodies() override {
    return {[this] {
              x.store(1, order);
              if (fence1) DeterministicFence(kSeqCst);
              r1 = y.load(order);
            },
            [this] {
              y.store(1, order);
              if (fence2) DeterministicFence(kSeqCst);
              r2 = x.load(order);
            }};
  }
  Outcome Observed() const override { return {r1, r2}; }
};

TEST(WeakMemoryTest, StoreBufferingIsSeenByTsoAndWeakNotBySequential) {
  const Outcome both_zero = {0, 0};
  EXPECT_FALSE(
      Reaches<StoreBuffering>(MemoryModel::kSequential, both_zero, kRelaxed, false, false));
  EXPECT_TRUE(
      Reaches<StoreBuffering>(MemoryModel::kStoreBuffers, both_zero, kRelaxed, false, false));
  EXPECT_TRUE(Reaches<StoreBuffering>(MemoryModel::kWeak, both_zero, kRelaxed, false, false));
  // Release/acquire does not forbid it either (C++), nor does one fence alone.
  EXPECT_TRUE(Reaches<StoreBuffering>(MemoryModel::kWeak, both_zero, kRelease, false, false));
  EXPECT_TRUE(Reaches<StoreBuffering>(MemoryModel::kWeak, both_zero, kRelaxed, true, false));
  EXPECT_TRUE(
      Reaches<StoreBuffering>(MemoryModel::kStoreBuffers, both_zero, kRelaxed, true, false));
  // Two seq_cst fences (rule 4), or seq_cst accesses (rule 1), forbid it.
  EXPECT_FALSE(Reaches<StoreBuffering>(MemoryModel::kWeak, both_zero, kRelaxed, true, true));
  EXPECT_FALSE(
      Reaches<StoreBuffering>(MemoryModel::kStoreBuffers, both_zero, kRelaxed, true, true));
  EXPECT_FALSE(Reaches<StoreBuffering>(MemoryModel::kWeak, both_zero, kSeqCst, false, false));
  EXPECT_FALSE(
      Reaches<StoreBuffering>(MemoryModel::kStoreBuffers, both_zero, kSeqCst, false, false));
  // Every other outcome stays reachable in every mode.
  for (MemoryModel m : {MemoryModel::kSequential, MemoryModel::kStoreBuffers, MemoryModel::kWeak}) {
    for (const Outcome& o : {Outcome{0, 1}, Outcome{1, 0}, Outcome{1, 1}}) {
      EXPECT_TRUE(Reaches<StoreBuffering>(m, o, kRelaxed, true, true)) << MemoryModelName(m);
    }
  }
}

// Message passing: data = 1; flag = 1  ||  r1 = flag; r2 = data. r1 = 1, r2 = 0 is the bug.
struct MessagePassing : Litmus {
  enum Sync { kReleaseAcquire, kRelaxedBoth, kFences, kReleaseOnly };
  explicit MessagePassing(Sync sync) : sync(sync) {}
  Sync sync;
  DeterministicAtomic<int> data{0}, flag{0};
  std::uint64_t r1 = 9, r2 = 9;
  std::vector<std::function<void()>> Bodies() override {
    return {[this] {
              data.store(1, kRelaxed);
              if (sync == kFences) DeterministicFence(kRelease);
              flag.store(1, sync == kReleaseAcquire || sync == kReleaseOnly ? kRelease : kRelaxed);
            },
            [this] {
              r1 = flag.load(sync == kReleaseAcquire ? kAcquire : kRelaxed);
              if (sync == kFences) DeterministicFence(kAcquire);
              r2 = data.load(kRelaxed);
            }};
  }
  Outcome Observed() const override { return {r1, r2}; }
};

TEST(WeakMemoryTest, MessagePassingNeedsReleaseAndAcquireOnlyInTheWeakMode) {
  const Outcome stale = {1, 0};
  using M = MessagePassing;
  EXPECT_FALSE(Reaches<M>(MemoryModel::kWeak, stale, M::kReleaseAcquire));
  EXPECT_FALSE(Reaches<M>(MemoryModel::kWeak, stale, M::kFences));
  EXPECT_TRUE(Reaches<M>(MemoryModel::kWeak, stale, M::kRelaxedBoth));
  EXPECT_TRUE(Reaches<M>(MemoryModel::kWeak, stale, M::kReleaseOnly));
  // x86 keeps stores in order and loads in order: never.
  EXPECT_FALSE(Reaches<M>(MemoryModel::kStoreBuffers, stale, M::kRelaxedBoth));
  EXPECT_FALSE(Reaches<M>(MemoryModel::kSequential, stale, M::kRelaxedBoth));
  EXPECT_TRUE(Reaches<M>(MemoryModel::kWeak, Outcome{1, 1}, M::kReleaseAcquire));
  EXPECT_TRUE(Reaches<M>(MemoryModel::kWeak, Outcome{0, 1}, M::kReleaseAcquire));
}

// Read-read coherence: x = 1; x = 2  ||  r1 = x; r2 = x. Never r1 = 2, r2 = 1; but r1 = 1 or 0
// after the stores ran is fine (relaxed reads of older stores).
struct ReadRead : Litmus {
  DeterministicAtomic<int> x{0};
  std::uint64_t r1 = 9, r2 = 9;
  std::vector<std::function<void()>> Bodies() override {
    return {[this] {
              x.store(1, kRelaxed);
              x.store(2, kRelaxed);
            },
            [this] {
              r1 = x.load(kRelaxed);
              r2 = x.load(kRelaxed);
            }};
  }
  Outcome Observed() const override { return {r1, r2}; }
};

TEST(WeakMemoryTest, LoadsOfOneLocationNeverGoBackInModificationOrder) {
  const Search s = Explore<ReadRead>(MemoryModel::kWeak, WeakMemoryBounds{3, 2});
  for (const Outcome& o : s.outcomes) EXPECT_LE(o[0], o[1]) << o[0] << " then " << o[1];
  const std::set<Outcome> all = {{0, 0}, {0, 1}, {0, 2}, {1, 1}, {1, 2}, {2, 2}};
  EXPECT_EQ(s.outcomes, all);
}

// A thread's own store hides every older one from its later loads; a store that happens
// before a load (through release/acquire) hides the older ones too.
TEST(WeakMemoryTest, AThreadNeverReadsOlderThanItsOwnStoreOrWhatHappensBeforeIt) {
  struct Own : Litmus {
    DeterministicAtomic<int> x{0}, flag{0};
    std::uint64_t own = 9, seen = 9, after = 9;
    std::vector<std::function<void()>> Bodies() override {
      return {[this] {
                x.store(1, kRelaxed);
                own = x.load(kRelaxed);
                flag.store(1, kRelease);
              },
              [this] {
                seen = flag.load(kAcquire);
                after = x.load(kRelaxed);
              }};
    }
    Outcome Observed() const override { return {own, seen, after}; }
  };
  const Search s = Explore<Own>(MemoryModel::kWeak, WeakMemoryBounds{3, 2});
  for (const Outcome& o : s.outcomes) {
    EXPECT_EQ(o[0], 1u);
    if (o[1] == 1) EXPECT_EQ(o[2], 1u);
  }
  EXPECT_TRUE(s.outcomes.count({1, 0, 0}) > 0);  // x = 1 unseen while flag is unseen: allowed
}

// Release sequence: T1 data = 1, flag = 1 (release); T2 flag += 1 (relaxed RMW); T3 reads
// flag == 2 (acquire): it synchronises with T1 through T2's RMW and must see data = 1.
struct ReleaseSequence : Litmus {
  DeterministicAtomic<int> data{0}, flag{0};
  std::uint64_t f = 9, d = 9;
  std::vector<std::function<void()>> Bodies() override {
    return {[this] {
              data.store(1, kRelaxed);
              flag.store(1, kRelease);
            },
            [this] {
              int expected = 1;
              flag.compare_exchange_strong(expected, 2, kRelaxed, kRelaxed);
            },
            [this] {
              f = flag.load(kAcquire);
              d = data.load(kRelaxed);
            }};
  }
  Outcome Observed() const override { return {f, d}; }
};

TEST(WeakMemoryTest, AnRmwCarriesTheReleaseSequenceOfTheStoreItRead) {
  const Search s = Explore<ReleaseSequence>(MemoryModel::kWeak, WeakMemoryBounds{3, 2});
  EXPECT_EQ(s.outcomes.count({2, 0}), 0u);
  EXPECT_EQ(s.outcomes.count({1, 0}), 0u);
  EXPECT_GT(s.outcomes.count({0, 0}), 0u);
  EXPECT_GT(s.outcomes.count({0, 1}), 0u);  // data seen early without synchronising
  EXPECT_GT(s.outcomes.count({2, 1}), 0u);
}

// Independent reads of independent writes: T1 x = 1; T2 y = 1; T3 reads x then y; T4 reads y
// then x. Readers disagreeing on the order (1 0 1 0) is allowed with release/acquire, not with
// seq_cst (rule 1), and x86 never shows it (one memory order of stores).
struct Iriw : Litmus {
  explicit Iriw(bool seq_cst)
      : store(seq_cst ? kSeqCst : kRelease), load(seq_cst ? kSeqCst : kAcquire) {}
  std::memory_order store, load;
  DeterministicAtomic<int> x{0}, y{0};
  std::uint64_t a = 9, b = 9, c = 9, d = 9;
  std::vector<std::function<void()>> Bodies() override {
    return {[this] { x.store(1, store); }, [this] { y.store(1, store); },
            [this] {
              a = x.load(load);
              b = y.load(load);
            },
            [this] {
              c = y.load(load);
              d = x.load(load);
            }};
  }
  Outcome Observed() const override { return {a, b, c, d}; }
};

TEST(WeakMemoryTest, ReadersDisagreeOnTheOrderOfIndependentWritesOnlyBelowSeqCst) {
  const Outcome disagree = {1, 0, 1, 0};
  EXPECT_TRUE(Reaches<Iriw>(MemoryModel::kWeak, disagree, false));
  EXPECT_FALSE(Reaches<Iriw>(MemoryModel::kWeak, disagree, true));
  EXPECT_FALSE(Reaches<Iriw>(MemoryModel::kStoreBuffers, disagree, false));
}

// An acquire compare-exchange followed by a load of another location: on x86 the locked
// instruction orders the two; in C++ (and on ARM) only a fence after it does. The store-
// buffering shape GUP-fast's pin and recheck form with fork's bump and page check.
struct CasThenLoad : Litmus {
  explicit CasThenLoad(bool fence) : fence(fence) {}
  bool fence;
  DeterministicAtomic<int> pins{0}, seq{0};
  std::uint64_t seq_seen = 9, pins_seen = 9;
  std::vector<std::function<void()>> Bodies() override {
    return {[this] {
              int expected = 0;
              pins.compare_exchange_strong(expected, 1, kAcquire, kRelaxed);
              if (fence) DeterministicFence(kSeqCst);
              seq_seen = seq.load(kSeqCst);
            },
            [this] {
              seq.fetch_add(1, kSeqCst);
              DeterministicFence(kSeqCst);
              pins_seen = pins.load(kAcquire);
            }};
  }
  Outcome Observed() const override { return {seq_seen, pins_seen}; }
};

TEST(WeakMemoryTest, AFenceAfterAnAcquireCompareExchangeMattersOnlyInTheWeakMode) {
  const Outcome missed = {0, 0};
  EXPECT_TRUE(Reaches<CasThenLoad>(MemoryModel::kWeak, missed, false));
  EXPECT_FALSE(Reaches<CasThenLoad>(MemoryModel::kWeak, missed, true));
  EXPECT_FALSE(Reaches<CasThenLoad>(MemoryModel::kStoreBuffers, missed, false));
  EXPECT_FALSE(Reaches<CasThenLoad>(MemoryModel::kSequential, missed, false));
}

TEST(WeakMemoryTest, TheBoundsLimitHowFarBackALoadReadsAndHowOften) {
  // Three stores, then a marker; a reader that sees the marker reads x: with history 2 it can
  // read only the last two stores, with history 4 any of them.
  struct Far : Litmus {
    DeterministicAtomic<int> x{0}, done{0};
    std::uint64_t d = 9, r = 9;
    std::vector<std::function<void()>> Bodies() override {
      return {[this] {
                x.store(1, kRelaxed);
                x.store(2, kRelaxed);
                x.store(3, kRelaxed);
                done.store(1, kRelaxed);
              },
              [this] {
                d = done.load(kRelaxed);
                r = x.load(kRelaxed);
              }};
    }
    Outcome Observed() const override { return d == 1 ? Outcome{r} : Outcome{}; }
  };
  const std::set<Outcome> last_two = {{}, {2}, {3}};
  const std::set<Outcome> any = {{}, {0}, {1}, {2}, {3}};
  EXPECT_EQ(Explore<Far>(MemoryModel::kWeak, WeakMemoryBounds{2, 1}).outcomes, last_two);
  EXPECT_EQ(Explore<Far>(MemoryModel::kWeak, WeakMemoryBounds{4, 1}).outcomes, any);
  // No stale reads allowed: only interleavings, as the sequential mode.
  const Search none =
      Explore<StoreBuffering>(MemoryModel::kWeak, WeakMemoryBounds{3, 0}, kRelaxed, false, false);
  EXPECT_EQ(none.outcomes.count({0, 0}), 0u);
  // IRIW's disagreement needs one stale read (the other reader runs before the second store).
  EXPECT_EQ(
      Explore<Iriw>(MemoryModel::kWeak, WeakMemoryBounds{3, 0}, false).outcomes.count({1, 0, 1, 0}),
      0u);
  EXPECT_EQ(
      Explore<Iriw>(MemoryModel::kWeak, WeakMemoryBounds{3, 1}, false).outcomes.count({1, 0, 1, 0}),
      1u);
}

TEST(WeakMemoryTest, BothEnginesExploreTheSameWeakAndTsoSchedules) {
  for (MemoryModel m : {MemoryModel::kStoreBuffers, MemoryModel::kWeak}) {
    const Search fibers = ExploreOn<StoreBuffering>(SchedulerEngine::kFibers, m,
                                                    WeakMemoryBounds{3, 2}, kRelaxed, true, false);
    const Search threads = ExploreOn<StoreBuffering>(SchedulerEngine::kThreads, m,
                                                     WeakMemoryBounds{3, 2}, kRelaxed, true, false);
    EXPECT_EQ(fibers.schedules, threads.schedules) << MemoryModelName(m);
    EXPECT_EQ(fibers.outcomes, threads.outcomes) << MemoryModelName(m);
  }
}

TEST(WeakMemoryTest, RecordedChoicesReplayAStaleRead) {
  DeterministicScheduler scheduler;
  scheduler.set_memory_model(MemoryModel::kWeak, WeakMemoryBounds{3, 1});
  ExhaustiveChooser explorer;
  std::vector<int> found;
  do {
    StoreBuffering sb(kRelaxed, false, false);
    const RunOutcome outcome = scheduler.Run(sb.Bodies(), explorer);
    if (sb.Observed() == Outcome{0, 0}) {
      found = outcome.choices;
      break;
    }
  } while (explorer.Advance());
  ASSERT_FALSE(found.empty());
  bool has_read_from = false;
  for (int c : found) has_read_from |= c >= kReadFromBase;
  EXPECT_TRUE(has_read_from);
  StoreBuffering again(kRelaxed, false, false);
  PreferenceChooser replay(found);
  EXPECT_EQ(scheduler.Run(again.Bodies(), replay).choices, found);
  EXPECT_EQ(again.Observed(), (Outcome{0, 0}));
}

TEST(WeakMemoryTest, AScopedMemoryModelOverridesTheSchedulersOwn) {
  const auto zero_zero = [] {
    DeterministicScheduler scheduler;  // sequential by its own setting
    ExhaustiveChooser explorer;
    bool found = false;
    do {
      StoreBuffering sb(kRelaxed, false, false);
      scheduler.Run(sb.Bodies(), explorer);
      found |= sb.Observed() == Outcome{0, 0};
    } while (explorer.Advance());
    return found;
  };
  EXPECT_FALSE(zero_zero());
  {
    ScopedMemoryModel weak(MemoryModel::kWeak);
    EXPECT_TRUE(zero_zero());
    ScopedMemoryModel tso(MemoryModel::kStoreBuffers);
    EXPECT_TRUE(zero_zero());
  }
  EXPECT_FALSE(zero_zero());
}

}  // namespace
}  // namespace pinsplit
