// SPDX-License-Identifier: MIT
#include "pinsplit/split_refcount.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "misuse_recorder.h"

namespace pinsplit {
namespace {

using testing::ElementsAre;

template <class Layout>
class SplitRefcountTest : public testing::Test {
 protected:
  using Counter = SplitRefcount<Layout>;
  MisuseRecorder misuse_;
};

using Layouts =
    testing::Types<SeedLayout, SplitLayout<3, 5, 24>, SplitLayout<2, 6, 24>, SplitLayout<8, 8, 16>,
                   SplitLayout<10, 10, 12>, SplitLayout<13, 13, 6>>;
TYPED_TEST_SUITE(SplitRefcountTest, Layouts);

TEST(SplitLayoutTest, SeedLayoutIsTheMailsBitsWithTwentyTwoUsableOrdinaryBits) {
  using C = SplitRefcount<SeedLayout>;
  EXPECT_EQ(C::kReadMask, 0xF0000000u);
  EXPECT_EQ(C::kWriteMask, 0x0F000000u);
  EXPECT_EQ(C::kOrdinaryMask, 0x00FFFFFFu);
  EXPECT_EQ(C::kMaxRefs, (1u << 22) - 1);
  EXPECT_EQ(C::kMaxReadPins, 15u);
  EXPECT_EQ(C::kMaxWritePins, 15u);
  EXPECT_EQ(C::name(), "split:4/4/24");
  EXPECT_EQ((SplitRefcount<SplitLayout<10, 10, 12>>::name()), "split:10/10/12");
}

TEST(SplitLayoutTest, ZonesTileTheOrdinaryFieldWithRoomForRacingThreads) {
  using C = SplitRefcount<SeedLayout>;
  EXPECT_EQ(C::kDeadValue, C::kZone / 2);
  EXPECT_EQ(C::kLiveBase, 2 * C::kZone);
  EXPECT_EQ(C::kSaturatedValue - C::kSaturationBase, C::kZone / 2);
  // From the middle of the saturation zone, every racing thread's unit stays inside it.
  EXPECT_LT(C::kSaturatedValue + C::kMaxRacingThreads, C::kOrdinaryMask + 1);
  EXPECT_GE(C::kSaturatedValue - C::kMaxRacingThreads, C::kSaturationBase);
  // From the top of LIVE, racing overflows cannot carry into the R/W field.
  EXPECT_LE(C::kLiveBase + C::kMaxRefs + C::kMaxRacingThreads, C::kOrdinaryMask);
  // From live zero, racing underflows stay above DEAD.
  EXPECT_GE(C::kLiveBase - C::kMaxRacingThreads, C::kZone);
  EXPECT_EQ(C::kMaxRacingThreads, (1u << 21) - 1);
}

TYPED_TEST(SplitRefcountTest, NewObjectHoldsOneReferenceAndNoPins) {
  typename TestFixture::Counter c;
  const RefcountState s = c.state();
  EXPECT_EQ(s.refs, 1u);
  EXPECT_EQ(s.pins, 0u);
  EXPECT_FALSE(s.dead);
  EXPECT_FALSE(s.saturated);
  EXPECT_FALSE(c.is_pinned());
}

TYPED_TEST(SplitRefcountTest, PutOfTheOnlyReferenceIsLastAndLeavesItDead) {
  typename TestFixture::Counter c;
  EXPECT_EQ(c.put(), PutResult::kLast);
  EXPECT_TRUE(c.dead());
  EXPECT_EQ(c.try_get(), GetResult::kDead);
  EXPECT_EQ(c.try_pin(PinKind::kRead), PinResult::kDead);
  EXPECT_EQ(c.try_pin(PinKind::kWrite), PinResult::kDead);
  EXPECT_TRUE(c.dead());
  EXPECT_TRUE(this->misuse_.take().empty());
}

TYPED_TEST(SplitRefcountTest, GetAndPutCountExactlyBetweenOneAndTheMaximum) {
  using C = typename TestFixture::Counter;
  C c;
  EXPECT_EQ(c.get(), GetResult::kOk);
  EXPECT_EQ(c.try_get(), GetResult::kOk);
  EXPECT_EQ(c.state().refs, 3u);
  ASSERT_TRUE(c.reset(C::kMaxRefs - 1, 0, 0, false));
  EXPECT_EQ(c.get(), GetResult::kOk);
  EXPECT_EQ(c.state().refs, C::kMaxRefs);
  EXPECT_FALSE(c.saturated());
  EXPECT_EQ(c.put(), PutResult::kLive);
  EXPECT_EQ(c.put(), PutResult::kLive);
  EXPECT_EQ(c.state().refs, C::kMaxRefs - 2);
  EXPECT_TRUE(this->misuse_.take().empty());
}

TYPED_TEST(SplitRefcountTest, GetPastTheMaximumSaturatesAndReportsOverflowOnce) {
  using C = typename TestFixture::Counter;
  C c;
  ASSERT_TRUE(c.reset(C::kMaxRefs, 1, 2, false));
  EXPECT_EQ(c.get(), GetResult::kOk);
  EXPECT_TRUE(c.saturated());
  EXPECT_THAT(this->misuse_.take(), ElementsAre(Misuse::kOverflow));
  // Pins survive saturation exactly.
  EXPECT_EQ(c.pins(PinKind::kRead), 1u);
  EXPECT_EQ(c.pins(PinKind::kWrite), 2u);
  EXPECT_EQ(c.raw() & C::kOrdinaryMask, C::kSaturatedValue);
}

TYPED_TEST(SplitRefcountTest, TryGetPastTheMaximumSaturatesToo) {
  using C = typename TestFixture::Counter;
  C c;
  ASSERT_TRUE(c.reset(C::kMaxRefs, 0, 0, false));
  EXPECT_EQ(c.try_get(), GetResult::kOk);
  EXPECT_TRUE(c.saturated());
  EXPECT_THAT(this->misuse_.take(), ElementsAre(Misuse::kOverflow));
}

TYPED_TEST(SplitRefcountTest, SaturationIsStickyAndNeverFrees) {
  using C = typename TestFixture::Counter;
  C c;
  ASSERT_TRUE(c.reset(0, 0, 0, true));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(c.put(), PutResult::kLive);
  EXPECT_EQ(c.get(), GetResult::kOk);
  EXPECT_EQ(c.try_get(), GetResult::kOk);
  EXPECT_TRUE(c.saturated());
  EXPECT_FALSE(c.dead());
  EXPECT_EQ(c.raw() & C::kOrdinaryMask, C::kSaturatedValue);
  // 100 puts and one get on a saturated count each report; try_get does not.
  EXPECT_EQ(this->misuse_.take().size(), 101u);
}

TYPED_TEST(SplitRefcountTest, PinsOnASaturatedObjectCountExactlyAndNeverFree) {
  using C = typename TestFixture::Counter;
  C c;
  ASSERT_TRUE(c.reset(0, 0, 0, true));
  for (std::uint32_t i = 0; i < C::kMaxWritePins; ++i)
    ASSERT_EQ(c.try_pin(PinKind::kWrite), PinResult::kPinned);
  EXPECT_EQ(c.try_pin(PinKind::kWrite), PinResult::kFull);
  EXPECT_EQ(c.pins(PinKind::kWrite), C::kMaxWritePins);
  for (std::uint32_t i = 0; i < C::kMaxWritePins; ++i)
    EXPECT_EQ(c.unpin(PinKind::kWrite), PutResult::kLive);
  EXPECT_EQ(c.pins(PinKind::kWrite), 0u);
  EXPECT_TRUE(c.saturated());
  EXPECT_TRUE(this->misuse_.take().empty());
}

TYPED_TEST(SplitRefcountTest, PinFieldsFillToTheirMaximumThenAnswerFullAndChangeNothing) {
  using C = typename TestFixture::Counter;
  for (PinKind kind : {PinKind::kRead, PinKind::kWrite}) {
    C c;
    const std::uint32_t max = kind == PinKind::kRead ? C::kMaxReadPins : C::kMaxWritePins;
    for (std::uint32_t i = 0; i < max; ++i) ASSERT_EQ(c.try_pin(kind), PinResult::kPinned);
    const std::uint32_t before = c.raw();
    EXPECT_EQ(c.try_pin(kind), PinResult::kFull);
    EXPECT_EQ(c.raw(), before);
    EXPECT_EQ(c.pins(kind), max);
    EXPECT_EQ(c.state().refs, 1u);
    // The other field is untouched and still has room.
    const PinKind other = kind == PinKind::kRead ? PinKind::kWrite : PinKind::kRead;
    EXPECT_EQ(c.pins(other), 0u);
    EXPECT_EQ(c.try_pin(other), PinResult::kPinned);
  }
}

TYPED_TEST(SplitRefcountTest, IsPinnedAndIsPinnedWritableAreExact) {
  using C = typename TestFixture::Counter;
  C c;
  EXPECT_FALSE(c.is_pinned());
  ASSERT_EQ(c.try_pin(PinKind::kRead), PinResult::kPinned);
  EXPECT_TRUE(c.is_pinned());
  EXPECT_FALSE(c.is_pinned_writable());
  ASSERT_EQ(c.try_pin(PinKind::kWrite), PinResult::kPinned);
  EXPECT_TRUE(c.is_pinned_writable());
  EXPECT_EQ(c.unpin(PinKind::kWrite), PutResult::kLive);
  EXPECT_FALSE(c.is_pinned_writable());
  // Many ordinary references never look like a pin (the bias scheme's false positive).
  ASSERT_TRUE(c.reset(std::min<std::uint32_t>(2000, C::kMaxRefs), 0, 0, false));
  EXPECT_FALSE(c.is_pinned());
}

TYPED_TEST(SplitRefcountTest, APinOutlivesEveryReferenceAndItsUnpinIsTheLastDrop) {
  typename TestFixture::Counter c;
  ASSERT_EQ(c.try_pin(PinKind::kWrite), PinResult::kPinned);
  ASSERT_EQ(c.try_pin(PinKind::kRead), PinResult::kPinned);
  EXPECT_EQ(c.put(), PutResult::kLive);
  EXPECT_EQ(c.state().refs, 0u);
  EXPECT_FALSE(c.dead());
  EXPECT_EQ(c.try_get(), GetResult::kOk);  // alive while pinned: a reference can come back
  EXPECT_EQ(c.put(), PutResult::kLive);
  EXPECT_EQ(c.unpin(PinKind::kRead), PutResult::kLive);
  EXPECT_EQ(c.unpin(PinKind::kWrite), PutResult::kLast);
  EXPECT_TRUE(c.dead());
  EXPECT_TRUE(this->misuse_.take().empty());
}

TYPED_TEST(SplitRefcountTest, PutWithNoReferenceOnAPinnedObjectSaturatesInsteadOfBorrowing) {
  using C = typename TestFixture::Counter;
  C c;
  ASSERT_TRUE(c.reset(0, 1, 1, false));
  EXPECT_EQ(c.put(), PutResult::kLive);
  EXPECT_THAT(this->misuse_.take(), ElementsAre(Misuse::kPutUnderflow));
  EXPECT_TRUE(c.saturated());
  EXPECT_EQ(c.pins(PinKind::kWrite), 1u);  // nothing borrowed from the R/W field
  EXPECT_EQ(c.pins(PinKind::kRead), 1u);
  EXPECT_EQ(c.unpin(PinKind::kWrite), PutResult::kLive);
  EXPECT_EQ(c.unpin(PinKind::kRead), PutResult::kLive);  // leaked, never freed
  EXPECT_FALSE(c.dead());
}

TYPED_TEST(SplitRefcountTest, MisuseOnADeadObjectIsUndoneAndNeverFreesTwice) {
  using C = typename TestFixture::Counter;
  C c;
  ASSERT_EQ(c.put(), PutResult::kLast);
  const std::uint32_t dead_word = c.raw();
  EXPECT_EQ(dead_word, C::kDeadValue);
  EXPECT_EQ(c.put(), PutResult::kLive);
  EXPECT_EQ(c.get(), GetResult::kDead);
  EXPECT_EQ(c.unpin(PinKind::kRead), PutResult::kLive);
  EXPECT_EQ(c.unpin(PinKind::kWrite), PutResult::kLive);
  EXPECT_EQ(c.raw(), dead_word);
  EXPECT_TRUE(c.dead());
  EXPECT_THAT(this->misuse_.take(), ElementsAre(Misuse::kPutOnDead, Misuse::kGetOnDead,
                                                Misuse::kUnpinOnDead, Misuse::kUnpinOnDead));
}

TYPED_TEST(SplitRefcountTest, UnpinOfAnEmptyPinFieldIsRefusedAndReported) {
  using C = typename TestFixture::Counter;
  C c;
  ASSERT_EQ(c.try_pin(PinKind::kRead), PinResult::kPinned);
  const std::uint32_t before = c.raw();
  EXPECT_EQ(c.unpin(PinKind::kWrite), PutResult::kLive);
  EXPECT_EQ(c.raw(), before);  // refused: nothing borrowed from READ
  EXPECT_EQ(c.pins(PinKind::kRead), 1u);
  ASSERT_EQ(c.unpin(PinKind::kRead), PutResult::kLive);
  const std::uint32_t unpinned = c.raw();
  EXPECT_EQ(c.unpin(PinKind::kRead), PutResult::kLive);  // the top field is refused too
  EXPECT_EQ(c.raw(), unpinned);
  EXPECT_EQ(c.state().refs, 1u);
  EXPECT_EQ(c.state().pins, 0u);
  EXPECT_THAT(this->misuse_.take(), ElementsAre(Misuse::kUnpinUnderflow, Misuse::kUnpinUnderflow));
}

// Issue 20's word, sequentially: a full READ field and an empty R/W field. The misused unpin
// write leaves the word as it was (it used to borrow from READ), so the READ field keeps
// answering full and a pin read is refused, before and after.
TYPED_TEST(SplitRefcountTest, AMisusedUnpinWriteNeverTouchesAFullReadField) {
  using C = typename TestFixture::Counter;
  C c;
  ASSERT_TRUE(c.reset(1, C::kMaxReadPins, 0, false));
  const std::uint32_t before = c.raw();
  EXPECT_EQ(c.unpin(PinKind::kWrite), PutResult::kLive);
  EXPECT_EQ(c.raw(), before);
  EXPECT_EQ(c.try_pin(PinKind::kRead), PinResult::kFull);
  EXPECT_EQ(c.pins(PinKind::kRead), C::kMaxReadPins);
  EXPECT_THAT(this->misuse_.take(), ElementsAre(Misuse::kUnpinUnderflow));
}

TYPED_TEST(SplitRefcountTest, ResetRefusesStatesTheLayoutCannotHold) {
  using C = typename TestFixture::Counter;
  C c;
  const std::uint32_t before = c.raw();
  EXPECT_FALSE(c.reset(C::kMaxRefs + 1, 0, 0, false));
  EXPECT_FALSE(c.reset(0, C::kMaxReadPins + 1, 0, false));
  EXPECT_FALSE(c.reset(0, 0, C::kMaxWritePins + 1, false));
  EXPECT_EQ(c.raw(), before);
  EXPECT_TRUE(c.reset(0, 0, 0, false));
  EXPECT_TRUE(c.dead());
}

TYPED_TEST(SplitRefcountTest, DecodeReadsEveryFieldOfTheWord) {
  using C = typename TestFixture::Counter;
  C c;
  ASSERT_TRUE(c.reset(7, C::kMaxReadPins, 1, false));
  const RefcountState s = c.state();
  EXPECT_EQ(s.refs, 7u);
  EXPECT_EQ(s.read_pins, C::kMaxReadPins);
  EXPECT_EQ(s.write_pins, 1u);
  EXPECT_EQ(s.pins, C::kMaxReadPins + 1);
  EXPECT_EQ(s.raw, (C::kMaxReadPins << C::kReadShift) | C::kWriteOne | (C::kLiveBase + 7));
}

}  // namespace
}  // namespace pinsplit
