// SPDX-License-Identifier: MIT
#include "pinsplit/bias_refcount.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "misuse_recorder.h"

namespace pinsplit {
namespace {

using testing::ElementsAre;
using Bias = BiasRefcount<>;

TEST(BiasRefcountTest, APinAddsTheGupBiasAndUnpinRemovesIt) {
  Bias c;
  EXPECT_EQ(c.try_pin(PinKind::kWrite), PinResult::kPinned);
  EXPECT_EQ(c.raw(), 1u + 1024u);
  EXPECT_EQ(c.unpin(PinKind::kRead), PutResult::kLive);  // kinds are not told apart
  EXPECT_EQ(c.raw(), 1u);
}

TEST(BiasRefcountTest, MaybePinnedHasFalsePositivesFromManyReferences) {
  Bias c;
  EXPECT_FALSE(c.is_pinned());
  ASSERT_TRUE(c.reset(1023, 0, 0, false));
  EXPECT_FALSE(c.is_pinned());
  EXPECT_EQ(c.get(), GetResult::kOk);
  EXPECT_TRUE(c.is_pinned());  // 1024 references look exactly like one pin
  EXPECT_EQ(c.state().pins, 1u);
  EXPECT_EQ(c.state().refs, 0u);
}

TEST(BiasRefcountTest, NewReferencesAndPinsAreRefusedOnceTheCountWouldGoNegative) {
  MisuseRecorder misuse;
  Bias c;
  ASSERT_TRUE(c.reset(Bias::kMaxCount, 0, 0, false));
  EXPECT_TRUE(c.is_pinned());  // the fullest count still reads "maybe pinned"
  EXPECT_EQ(c.try_get(), GetResult::kFull);
  EXPECT_EQ(c.try_pin(PinKind::kRead), PinResult::kFull);
  EXPECT_EQ(c.raw(), Bias::kMaxCount);
  // get_page() by a holder is unconditional and may take the count negative; from there every
  // new reference or pin is refused, and drops still count.
  EXPECT_EQ(c.get(), GetResult::kOk);
  EXPECT_EQ(c.raw(), Bias::kMaxCount + 1);
  // A negative count is not "maybe pinned", as the kernel's signed page_maybe_dma_pinned() reads
  // it.
  EXPECT_FALSE(c.is_pinned());
  EXPECT_EQ(c.try_get(), GetResult::kFull);
  EXPECT_EQ(c.try_pin(PinKind::kWrite), PinResult::kFull);
  EXPECT_EQ(c.put(), PutResult::kLive);
  EXPECT_EQ(c.raw(), Bias::kMaxCount);
  ASSERT_TRUE(c.reset(Bias::kMaxCount - 1024, 0, 0, false));
  EXPECT_EQ(c.try_pin(PinKind::kRead), PinResult::kPinned);
  EXPECT_EQ(c.try_pin(PinKind::kRead), PinResult::kFull);
  EXPECT_TRUE(misuse.take().empty());  // a refusal is an answer, not a misuse
}

TEST(BiasRefcountTest, LastDropOfAReferenceOrAPinKillsAndNothingResurrects) {
  Bias c;
  ASSERT_EQ(c.try_pin(PinKind::kRead), PinResult::kPinned);
  EXPECT_EQ(c.put(), PutResult::kLive);
  EXPECT_EQ(c.unpin(PinKind::kRead), PutResult::kLast);
  EXPECT_TRUE(c.dead());
  EXPECT_EQ(c.try_get(), GetResult::kDead);
  EXPECT_EQ(c.try_pin(PinKind::kWrite), PinResult::kDead);
}

TEST(BiasRefcountTest, MisuseAtZeroIsUndoneAndReported) {
  MisuseRecorder misuse;
  Bias c;
  ASSERT_EQ(c.put(), PutResult::kLast);
  EXPECT_EQ(c.put(), PutResult::kLive);
  EXPECT_EQ(c.get(), GetResult::kDead);
  EXPECT_EQ(c.unpin(PinKind::kRead), PutResult::kLive);
  EXPECT_EQ(c.raw(), 0u);
  EXPECT_THAT(misuse.take(),
              ElementsAre(Misuse::kPutOnDead, Misuse::kGetOnDead, Misuse::kUnpinOnDead));
}

TEST(BiasRefcountTest, UnpinBelowTheBiasIsCaughtButAboveItIsInvisible) {
  MisuseRecorder misuse;
  Bias c;
  ASSERT_TRUE(c.reset(5, 0, 0, false));
  EXPECT_EQ(c.unpin(PinKind::kRead), PutResult::kLive);
  EXPECT_EQ(c.raw(), 5u);
  EXPECT_THAT(misuse.take(), ElementsAre(Misuse::kUnpinUnderflow));
  // With 1024 references and no pin, the same misuse eats the references unnoticed.
  ASSERT_TRUE(c.reset(1030, 0, 0, false));
  EXPECT_EQ(c.unpin(PinKind::kRead), PutResult::kLive);
  EXPECT_EQ(c.raw(), 6u);
  EXPECT_TRUE(misuse.take().empty());
  EXPECT_FALSE(Bias::kCapabilities.detects_unpin_misuse);
}

TEST(BiasRefcountTest, ResetRefusesSaturationAndCountsPastTheSignedRange) {
  Bias c;
  EXPECT_FALSE(c.reset(1, 0, 0, true));
  EXPECT_FALSE(c.reset(0, 1u << 21, 0, false));
  EXPECT_TRUE(c.reset(3, 1, 1, false));
  EXPECT_EQ(c.raw(), 3u + 2048u);
}

}  // namespace
}  // namespace pinsplit
