// SPDX-License-Identifier: MIT
#include "pinsplit/plain_refcount.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "misuse_recorder.h"

namespace pinsplit {
namespace {

using testing::ElementsAre;
using Plain = PlainRefcount<>;

TEST(PlainRefcountTest, PinsAreJustReferences) {
  Plain c;
  EXPECT_EQ(c.try_pin(PinKind::kWrite), PinResult::kPinned);
  EXPECT_EQ(c.get(), GetResult::kOk);
  EXPECT_EQ(c.raw(), 3u);
  EXPECT_EQ(c.unpin(PinKind::kRead), PutResult::kLive);
  EXPECT_EQ(c.put(), PutResult::kLive);
  EXPECT_EQ(c.put(), PutResult::kLast);
  EXPECT_TRUE(c.dead());
}

TEST(PlainRefcountTest, NeverRefusesAPinWhileLive) {
  Plain c;
  ASSERT_TRUE(c.reset(1, 1000, 1000, false));
  EXPECT_EQ(c.try_pin(PinKind::kRead), PinResult::kPinned);
  EXPECT_EQ(c.raw(), 2002u);
}

TEST(PlainRefcountTest, DeadStaysDeadAndMisuseAtZeroIsUndone) {
  MisuseRecorder misuse;
  Plain c;
  ASSERT_EQ(c.put(), PutResult::kLast);
  EXPECT_EQ(c.try_get(), GetResult::kDead);
  EXPECT_EQ(c.try_pin(PinKind::kRead), PinResult::kDead);
  EXPECT_EQ(c.get(), GetResult::kDead);
  EXPECT_EQ(c.put(), PutResult::kLive);
  EXPECT_EQ(c.raw(), 0u);
  EXPECT_THAT(misuse.take(), ElementsAre(Misuse::kGetOnDead, Misuse::kPutOnDead));
}

TEST(PlainRefcountTest, WrapsPastTheTopLikeAnAtomicCounter) {
  Plain c;
  ASSERT_TRUE(c.reset(UINT32_MAX, 0, 0, false));
  EXPECT_EQ(c.get(), GetResult::kOk);
  EXPECT_EQ(c.raw(), 0u);
  EXPECT_FALSE(Plain::kCapabilities.refuses_overflow);
}

}  // namespace
}  // namespace pinsplit
