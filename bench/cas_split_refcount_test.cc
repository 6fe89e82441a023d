// SPDX-License-Identifier: MIT
// The benchmark contender must be the same counter as SplitRefcount, or beating it proves
// nothing: these tests run both on the same operations, one at a time, and compare every result,
// every word and every misuse report.
#include "cas_split_refcount.h"

#include <array>
#include <cstdint>
#include <random>

#include "gtest/gtest.h"
#include "pinsplit/misuse.h"
#include "pinsplit/split_refcount.h"

namespace pinsplit::bench {
namespace {

std::array<std::uint64_t, kMisuseKinds> MisuseCounts() {
  std::array<std::uint64_t, kMisuseKinds> counts{};
  for (int i = 0; i < kMisuseKinds; ++i) counts[i] = misuse_count(static_cast<Misuse>(i));
  return counts;
}

// Applies operation `op` to `counter` and returns its result as an int, so both schemes'
// answers compare directly.
template <class Counter>
int Apply(Counter& counter, int op) {
  switch (op) {
    case 0:
      return static_cast<int>(counter.get());
    case 1:
      return static_cast<int>(counter.try_get());
    case 2:
      return static_cast<int>(counter.put());
    case 3:
      return static_cast<int>(counter.try_pin(PinKind::kRead));
    case 4:
      return static_cast<int>(counter.try_pin(PinKind::kWrite));
    case 5:
      return static_cast<int>(counter.unpin(PinKind::kRead));
    default:
      return static_cast<int>(counter.unpin(PinKind::kWrite));
  }
}

// Random walks from random starting states, misuse included, on a layout small enough that the
// walks reach overflow, saturation and full pin fields.
template <class Layout>
void ExpectSameAsSplit(std::uint32_t seed) {
  std::mt19937 random(seed);
  for (int walk = 0; walk < 300; ++walk) {
    SplitRefcount<Layout> split;
    CasSplitRefcount<Layout> cas;
    const std::uint32_t refs = random() % 20;
    const std::uint32_t read_pins = random() % 3;
    const std::uint32_t write_pins = random() % 3;
    const bool saturated = random() % 10 == 0;
    ASSERT_EQ(split.reset(refs, read_pins, write_pins, saturated),
              cas.reset(refs, read_pins, write_pins, saturated));
    for (int step = 0; step < 60; ++step) {
      // Bias towards gets so some walks climb into the saturation zone of small layouts.
      const int op = random() % 3 == 0 ? 0 : static_cast<int>(random() % 7);
      const auto before = MisuseCounts();
      const int split_result = Apply(split, op);
      const auto split_misuse = MisuseCounts();
      const int cas_result = Apply(cas, op);
      const auto cas_misuse = MisuseCounts();
      ASSERT_EQ(split_result, cas_result) << "walk " << walk << " step " << step << " op " << op;
      ASSERT_EQ(split.raw(), cas.raw()) << "walk " << walk << " step " << step << " op " << op;
      for (int kind = 0; kind < kMisuseKinds; ++kind) {
        ASSERT_EQ(split_misuse[kind] - before[kind], cas_misuse[kind] - split_misuse[kind])
            << "misuse " << to_string(static_cast<Misuse>(kind)) << " at walk " << walk << " step "
            << step << " op " << op;
      }
    }
  }
}

TEST(CasSplitRefcountTest, MatchesSplitRefcountOnTheSeedLayout) {
  ExpectSameAsSplit<SeedLayout>(1);
}

TEST(CasSplitRefcountTest, MatchesSplitRefcountThroughOverflowOnATinyOrdinaryField) {
  ExpectSameAsSplit<SplitLayout<13, 13, 6>>(2);
}

TEST(CasSplitRefcountTest, LastPutGoesStraightToDeadAndRefusesResurrection) {
  CasSplitRefcount<> counter(1);
  EXPECT_EQ(counter.put(), PutResult::kLast);
  EXPECT_TRUE(counter.dead());
  EXPECT_EQ(counter.raw(), SplitRefcount<>::kDeadValue);
  EXPECT_EQ(counter.try_get(), GetResult::kDead);
  EXPECT_EQ(counter.try_pin(PinKind::kWrite), PinResult::kDead);
}

TEST(CasSplitRefcountTest, LastUnpinFreesWhenNoReferenceRemains) {
  CasSplitRefcount<> counter(1);
  ASSERT_EQ(counter.try_pin(PinKind::kWrite), PinResult::kPinned);
  EXPECT_EQ(counter.put(), PutResult::kLive);
  EXPECT_TRUE(counter.is_pinned_writable());
  EXPECT_EQ(counter.unpin(PinKind::kWrite), PutResult::kLast);
  EXPECT_TRUE(counter.dead());
}

}  // namespace
}  // namespace pinsplit::bench
