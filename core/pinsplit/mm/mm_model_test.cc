// SPDX-License-Identifier: MIT
#include "pinsplit/mm/mm_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pinsplit::mm {
namespace {

std::unique_ptr<MmModel> Make(const std::string& policy, const std::string& impl = "") {
  MmOptions options;
  options.policy = policy;
  options.impl = impl;
  options.max_pages = 64;
  absl::StatusOr<std::unique_ptr<MmModel>> model = MmModel::Create(options);
  EXPECT_TRUE(model.ok()) << model.status();
  return *std::move(model);
}

TEST(MmModelTest, EveryMappingHoldsOneOrdinaryReferenceAndAPageDiesWithItsLastHolder) {
  auto m = Make("split");
  const ProcessId a = *m->spawn();
  ASSERT_TRUE(m->map(a, 0, 0).ok());
  const PageId page = m->page_at(a, 0);
  const ProcessId b = *m->fork(a);
  EXPECT_EQ(m->page_at(b, 0), page);
  EXPECT_EQ(m->counter_state(page).refs, 2u);
  const RefId lru = *m->take_ref(a, 0);
  EXPECT_EQ(m->counter_state(page).refs, 3u);
  ASSERT_TRUE(m->exit(a).ok());
  ASSERT_TRUE(m->exit(b).ok());
  EXPECT_TRUE(m->in_use(page));  // the extra reference still holds it
  ASSERT_TRUE(m->drop_ref(lru).ok());
  EXPECT_FALSE(m->in_use(page));
  EXPECT_EQ(m->stats().pages_freed, 1u);
}

TEST(MmModelTest, AFullPinFieldRefusesThePinAndChangesNothing) {
  auto m = Make("split", "split:10/10/12");
  const ProcessId a = *m->spawn();
  ASSERT_TRUE(m->map(a, 0, 0).ok());
  for (int i = 0; i < 1023; ++i) {
    ASSERT_EQ(m->pin(a, 0, PinKind::kWrite, false, false)->result, PinResult::kPinned);
  }
  const RefcountState before = m->counter_state(m->page_at(a, 0));
  EXPECT_EQ(m->pin(a, 0, PinKind::kWrite, false, false)->result, PinResult::kFull);
  EXPECT_EQ(m->counter_state(m->page_at(a, 0)), before);
  EXPECT_EQ(m->stats().pins_refused, 1u);
}

TEST(MmModelTest, GupFastPinsAnExclusivePageAndFallsBackOnASharedOne) {
  auto m = Make("anon-exclusive");
  const ProcessId a = *m->spawn();
  ASSERT_TRUE(m->map(a, 0, 1).ok());
  EXPECT_TRUE(m->pin(a, 0, PinKind::kRead, false, true)->fast);
  ASSERT_TRUE(m->fork(a).ok());  // page 1 is now shared, page 0 pinned so copied for the child
  absl::StatusOr<PinOutcome> shared = m->pin(a, 1, PinKind::kRead, false, true);
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(shared->result, PinResult::kPinned);
  EXPECT_FALSE(shared->fast);  // the slow path unshared it first
  EXPECT_EQ(m->stats().unshares, 1u);
  EXPECT_EQ(m->stats().fast_pin_fallbacks, 1u);
  EXPECT_EQ(m->stats().copies_at_fork, 1u);
}

TEST(MmModelTest, BiasFalsePositivesForceCopiesAtForkThatTheSplitWordAvoids) {
  for (const std::string policy : {"anon-exclusive", "split"}) {
    auto m = Make(policy);
    const ProcessId a = *m->spawn();
    ASSERT_TRUE(m->map(a, 0, 1).ok());
    ASSERT_EQ(m->pin(a, 1, PinKind::kRead, false, false)->result, PinResult::kPinned);
    for (int i = 0; i < 1024; ++i) ASSERT_TRUE(m->take_ref(a, 0).ok());
    ASSERT_TRUE(m->fork(a).ok());
    if (policy == "split") {
      EXPECT_EQ(m->stats().copies_at_fork, 1u);  // only the pinned page
      EXPECT_EQ(m->stats().false_maybe_pinned, 0u);
    } else {
      EXPECT_EQ(m->stats().copies_at_fork, 2u);  // 1024 references look like a pin
      EXPECT_EQ(m->stats().false_maybe_pinned, 1u);
    }
  }
}

TEST(MmModelTest, RefusedOperationsChangeNothing) {
  auto m = Make("split");
  const ProcessId a = *m->spawn();
  EXPECT_EQ(m->write(a, 0, 1).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(m->map(a, 0, 0).ok());
  EXPECT_FALSE(m->map(a, 0, 0).ok());
  EXPECT_FALSE(m->map(a, 0, kAddressSpace).ok());
  ASSERT_TRUE(m->protect(a, 0, false).ok());
  EXPECT_FALSE(m->write(a, 0, 1).ok());
  EXPECT_FALSE(m->pin(a, 0, PinKind::kWrite, false, false).ok());
  EXPECT_FALSE(m->read(a + 1, 0).ok());
  EXPECT_EQ(m->payload(m->page_at(a, 0)), 0u);
}

TEST(MmModelTest, RunsOutOfPagesCleanlyDuringFork) {
  MmOptions options;
  options.policy = "split";
  options.max_pages = 3;
  auto m = *MmModel::Create(options);
  const ProcessId a = *m->spawn();
  ASSERT_TRUE(m->map(a, 0, 1).ok());
  ASSERT_EQ(m->pin(a, 0, PinKind::kRead, false, false)->result, PinResult::kPinned);
  ASSERT_EQ(m->pin(a, 1, PinKind::kRead, false, false)->result, PinResult::kPinned);
  absl::StatusOr<ProcessId> child = m->fork(a);  // needs two copies, has room for one
  EXPECT_EQ(child.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(m->pages_in_use().size(), 2u);  // the partial child was torn down
}

}  // namespace
}  // namespace pinsplit::mm
