// SPDX-License-Identifier: MIT
// Store-buffer mode of the deterministic scheduler (x86-TSO): the semantics, and the proof of
// teeth on the store-buffering pattern the mm model's GUP-fast and fork rely on.
//
// The miniature below is that protocol reduced to its two words. GUP-fast makes its pin
// visible, then (behind a full fence, the kernel's smp_mb()) reads the parent's
// write_protect_seq and backs off if fork has begun; fork bumps write_protect_seq, then
// (behind a full fence) looks at the page's pins and shares the page only if there are none.
// A pin that GUP-fast keeps on a page fork shares is the bug (a pinned page shared with the
// child: the next COW fault moves the parent away from its pin). With both fences no schedule
// and no store-buffer drain order allows it; drop either fence and the pin's store can sit in
// GUP-fast's buffer while fork reads "unpinned" (or the other way round). A sequentially
// consistent explorer cannot produce that outcome at all, which is why the mode exists.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "deterministic_atomic.h"
#include "deterministic_scheduler.h"

namespace pinsplit {
namespace {

struct Verdicts {
  int schedules = 0;
  int violations = 0;
  std::vector<int> first_violation;  // its recorded choices
};

Verdicts ExploreForkRace(bool store_buffers, bool gup_fence, bool fork_fence) {
  DeterministicScheduler scheduler;
  scheduler.set_store_buffers(store_buffers);
  ExhaustiveChooser chooser;
  Verdicts v;
  do {
    DeterministicAtomic<std::uint32_t> pins(0);
    DeterministicAtomic<std::uint32_t> write_protect_seq(0);
    bool pin_kept = false;
    bool page_shared = false;
    std::vector<std::function<void()>> bodies = {
        [&] {  // GUP-fast
          pins.store(1, std::memory_order_relaxed);
          if (gup_fence) DeterministicFence(std::memory_order_seq_cst);
          if (write_protect_seq.load(std::memory_order_relaxed) != 0) {
            pins.store(0, std::memory_order_relaxed);  // unpin, fall back to the slow path
          } else {
            pin_kept = true;
          }
        },
        [&] {  // fork
          write_protect_seq.store(1, std::memory_order_relaxed);
          if (fork_fence) DeterministicFence(std::memory_order_seq_cst);
          page_shared = pins.load(std::memory_order_relaxed) == 0;
          write_protect_seq.store(2, std::memory_order_relaxed);
        },
    };
    const RunOutcome outcome = scheduler.Run(bodies, chooser);
    ++v.schedules;
    if (pin_kept && page_shared) {
      if (v.violations++ == 0) v.first_violation = outcome.choices;
    }
  } while (chooser.Advance());
  return v;
}

TEST(StoreBufferTest, WithBothFencesNoDrainOrderLetsThePinSlipIntoFork) {
  const Verdicts v = ExploreForkRace(/*store_buffers=*/true, true, true);
  EXPECT_EQ(v.violations, 0);
  EXPECT_GT(v.schedules, 10);
  std::cout << "both fences: " << v.schedules << " schedules with drains, no violation\n";
}

TEST(StoreBufferTest, DroppingGupFastsFenceIsFoundOnlyWithStoreBuffers) {
  const Verdicts sb = ExploreForkRace(/*store_buffers=*/true, /*gup_fence=*/false, true);
  EXPECT_GT(sb.violations, 0);
  std::cout << "no GUP-fast fence: " << sb.violations << " of " << sb.schedules
            << " schedules let the pin slip into fork\n";
  const Verdicts sc = ExploreForkRace(/*store_buffers=*/false, /*gup_fence=*/false, true);
  EXPECT_EQ(sc.violations, 0) << "a sequentially consistent explorer cannot see it";
}

TEST(StoreBufferTest, DroppingForksFenceIsFoundToo) {
  EXPECT_GT(ExploreForkRace(/*store_buffers=*/true, true, /*fork_fence=*/false).violations, 0);
}

TEST(StoreBufferTest, TheRecordedChoicesOfAViolationReplayIt) {
  const Verdicts found = ExploreForkRace(true, /*gup_fence=*/false, true);
  ASSERT_GT(found.violations, 0);
  DeterministicScheduler scheduler;
  scheduler.set_store_buffers(true);
  DeterministicAtomic<std::uint32_t> pins(0), seq(0);
  bool pin_kept = false, page_shared = false;
  std::vector<std::function<void()>> bodies = {
      [&] {
        pins.store(1, std::memory_order_relaxed);
        if (seq.load(std::memory_order_relaxed) != 0) {
          pins.store(0, std::memory_order_relaxed);
        } else {
          pin_kept = true;
        }
      },
      [&] {
        seq.store(1, std::memory_order_relaxed);
        DeterministicFence(std::memory_order_seq_cst);
        page_shared = pins.load(std::memory_order_relaxed) == 0;
        seq.store(2, std::memory_order_relaxed);
      },
  };
  PreferenceChooser replay(found.first_violation);
  const RunOutcome again = scheduler.Run(bodies, replay);
  EXPECT_EQ(again.choices, found.first_violation);
  EXPECT_TRUE(pin_kept && page_shared);
}

TEST(StoreBufferTest, AThreadReadsItsOwnBufferedStoreOthersSeeMemoryUntilItCommits) {
  DeterministicScheduler scheduler;
  scheduler.set_store_buffers(true);
  scheduler.record_accesses(true);
  DeterministicAtomic<std::uint32_t> word(5);
  std::uint32_t own = 0, other_before = 0, other_after = 0;
  std::vector<std::function<void()>> bodies = {
      [&] {
        word.store(7, std::memory_order_release);
        own = word.load(std::memory_order_acquire);
      },
      [&] {
        other_before = word.load(std::memory_order_acquire);
        other_after = word.load(std::memory_order_acquire);
      },
  };
  // Start-up runs T1 to its store and T2 to its first load. Then: T1 stores (buffered), T1
  // loads, T2 loads (memory: 5), commit T1's store, T2 loads (7).
  PreferenceChooser chooser({1, 1, 2, kFlushBase + 1, 2});
  const RunOutcome outcome = scheduler.Run(bodies, chooser);
  EXPECT_EQ(own, 7u);
  EXPECT_EQ(other_before, 5u);
  EXPECT_EQ(other_after, 7u);
  EXPECT_EQ(word.load(), 7u);
}

TEST(StoreBufferTest, ReadModifyWritesAndSeqCstStoresDrainTheBufferFirst) {
  DeterministicScheduler scheduler;
  scheduler.set_store_buffers(true);
  DeterministicAtomic<std::uint32_t> a(0), b(0);
  std::uint32_t seen_a = 0;
  std::vector<std::function<void()>> bodies = {
      [&] {
        a.store(1, std::memory_order_relaxed);      // buffered
        b.fetch_add(1, std::memory_order_relaxed);  // drains: a = 1 is in memory now
      },
      [&] {
        while (b.load(std::memory_order_acquire) == 0) {
        }
        seen_a = a.load(std::memory_order_relaxed);
      },
  };
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    a.store(0);
    b.store(0);
    seen_a = 0;
    RandomChooser chooser(seed);
    scheduler.Run(bodies, chooser);
    EXPECT_EQ(seen_a, 1u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace pinsplit
