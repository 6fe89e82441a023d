// SPDX-License-Identifier: MIT
#include "linearizability.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace pinsplit {
namespace {

using testing::HasSubstr;

CounterOp Op(CounterOpKind kind, PinKind pin = PinKind::kRead) {
  CounterOp op;
  op.kind = kind;
  op.pin = pin;
  return op;
}

HistoryOp H(int thread, CounterOp op, std::string result, std::size_t first, std::size_t last) {
  HistoryOp h;
  h.thread = thread;
  h.op = op;
  h.result = std::move(result);
  h.first_step = first;
  h.last_step = last;
  return h;
}

RefcountModel SeedModel() { return RefcountModel::Split(4194303, 15, 15); }

RefcountState Dead() {
  RefcountState s;
  s.dead = true;
  return s;
}

TEST(LinearizabilityTest, ConcurrentDropsWithOneLastAreLinearizable) {
  RefcountModel model = SeedModel();
  model.reset(1, 0, 1, false);
  const std::vector<HistoryOp> history = {
      H(1, Op(CounterOpKind::kPut), "live", 0, 2),
      H(2, Op(CounterOpKind::kUnpin, PinKind::kWrite), "last", 1, 3),
  };
  const LinearizabilityVerdict v = CheckLinearizable(history, model, Dead(), true);
  EXPECT_TRUE(v.linearizable) << v.why;
  EXPECT_EQ(v.order, (std::vector<std::size_t>{0, 1}));
}

TEST(LinearizabilityTest, TwoLastDropsAreNotLinearizable) {
  RefcountModel model = SeedModel();
  model.reset(1, 0, 1, false);
  const std::vector<HistoryOp> history = {
      H(1, Op(CounterOpKind::kPut), "last", 0, 3),
      H(2, Op(CounterOpKind::kUnpin, PinKind::kWrite), "last", 1, 4),
  };
  const LinearizabilityVerdict v = CheckLinearizable(history, model, Dead(), true);
  EXPECT_FALSE(v.linearizable);
  EXPECT_THAT(v.why, HasSubstr("longest matching prefix (0)"));
}

TEST(LinearizabilityTest, RealTimeOrderIsRespected) {
  // try_get => ok then put => live only works in the order try_get, put.
  const std::vector<HistoryOp> put_first = {
      H(1, Op(CounterOpKind::kPut), "live", 0, 0),
      H(2, Op(CounterOpKind::kTryGet), "ok", 1, 2),
  };
  RefcountState one_ref;
  one_ref.refs = 1;
  EXPECT_FALSE(CheckLinearizable(put_first, SeedModel(), one_ref, true).linearizable);
  const std::vector<HistoryOp> overlapping = {
      H(1, Op(CounterOpKind::kPut), "live", 0, 3),
      H(2, Op(CounterOpKind::kTryGet), "ok", 1, 2),
  };
  const LinearizabilityVerdict v = CheckLinearizable(overlapping, SeedModel(), one_ref, true);
  EXPECT_TRUE(v.linearizable) << v.why;
  EXPECT_EQ(v.order, (std::vector<std::size_t>{1, 0}));
}

TEST(LinearizabilityTest, TheFinalStateMustMatch) {
  const std::vector<HistoryOp> history = {H(1, Op(CounterOpKind::kGet), "ok", 0, 0)};
  RefcountState wrong;
  wrong.refs = 3;
  const LinearizabilityVerdict v = CheckLinearizable(history, SeedModel(), wrong, true);
  EXPECT_FALSE(v.linearizable);
  EXPECT_THAT(v.why, HasSubstr("ends in a state other than the counter's"));
  RefcountState right;
  right.refs = 2;
  EXPECT_TRUE(CheckLinearizable(history, SeedModel(), right, true).linearizable);
}

TEST(LinearizabilityTest, MisuseReportsCountWhenAsked) {
  RefcountModel model = SeedModel();
  model.reset(0, 1, 0, false);
  HistoryOp unpin = H(1, Op(CounterOpKind::kUnpin, PinKind::kRead), "last", 0, 1);
  unpin.misuse = {Misuse::kPutOnDead};
  const std::vector<HistoryOp> history = {unpin};
  EXPECT_FALSE(CheckLinearizable(history, model, Dead(), true).linearizable);
  EXPECT_TRUE(CheckLinearizable(history, model, Dead(), false).linearizable);
}

// The split counter's documented window: an overflowing get lands the word at the edge of
// SATURATED and a racing put may bring it back into LIVE until the get's repair. A reading taken
// then says "not saturated" although the model saturated at the get.
std::vector<HistoryOp> PutRacingAnOverflow(std::size_t get_last_step) {
  HistoryOp get = H(1, Op(CounterOpKind::kGet), "ok", 0, get_last_step);
  get.misuse = {Misuse::kOverflow};
  HistoryOp put = H(2, Op(CounterOpKind::kPut), "live", 2, 2);
  put.misuse = {Misuse::kSaturated};
  HistoryOp probe = H(2, Op(CounterOpKind::kPut), "dead=no saturated=no", 2, 2);
  probe.probe = true;
  probe.sequence = 1;
  return {get, put, probe};
}

TEST(LinearizabilityTest, AReadingInsideAnOverflowWindowMayMissTheSaturation) {
  RefcountModel model = SeedModel();
  model.reset(4194303, 0, 0, false);
  RefcountState saturated;
  saturated.saturated = true;
  const LinearizabilityVerdict inside =
      CheckLinearizable(PutRacingAnOverflow(5), model, saturated, true);
  EXPECT_TRUE(inside.linearizable) << inside.why;
  // The same reading after the get returned (its repair made saturation sticky) is wrong.
  const LinearizabilityVerdict after =
      CheckLinearizable(PutRacingAnOverflow(1), model, saturated, true);
  EXPECT_FALSE(after.linearizable);
}

TEST(LinearizabilityTest, AReadingInsideAnOverflowWindowMustMatchInEverythingElse) {
  RefcountModel model = SeedModel();
  model.reset(4194303, 0, 0, false);
  RefcountState saturated;
  saturated.saturated = true;
  std::vector<HistoryOp> history = PutRacingAnOverflow(5);
  history[2].reading.pinned = true;  // no pin was ever taken
  EXPECT_FALSE(CheckLinearizable(history, model, saturated, true).linearizable);
}

TEST(LinearizabilityTest, FormatsAnOperationWithItsStepsAndMisuse) {
  HistoryOp h = H(2, Op(CounterOpKind::kUnpin, PinKind::kWrite), "last", 2, 4);
  h.index = 1;
  h.misuse = {Misuse::kPutOnDead};
  EXPECT_EQ(FormatHistoryOp(h), "T2#2 unpin write => last [steps 3..5] misuse: put-on-dead");
}

}  // namespace
}  // namespace pinsplit
