// SPDX-License-Identifier: MIT
// Every registered counter against the sequential model, on random operation sequences that
// keep jumping to the edges of each field.
#include "refcount_model.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "misuse_recorder.h"
#include "pinsplit/any_refcount.h"

namespace pinsplit {
namespace {

class RefcountModelTest : public testing::TestWithParam<std::string> {};

std::uint32_t PickEdge(std::mt19937& rng, std::uint32_t max) {
  const std::uint32_t edges[] = {0, 1, 2, max / 2, max - 1, max};
  return edges[rng() % 6];
}

TEST_P(RefcountModelTest, AgreesWithTheSequentialModelOnRandomSequencesNearEveryEdge) {
  MisuseRecorder misuse;
  for (std::uint32_t seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    auto counter = MakeRefcount(GetParam());
    ASSERT_TRUE(counter.ok());
    AnyRefcount& c = **counter;
    RefcountModel model = ModelFor(c);
    const RefcountLimits limits = c.limits();
    for (int step = 0; step < 300; ++step) {
      const PinKind kind = rng() % 2 ? PinKind::kRead : PinKind::kWrite;
      std::string op;
      std::string got, want;
      switch (rng() % 7) {
        case 0:
          op = "get";
          got = to_string(c.get());
          want = to_string(model.get());
          break;
        case 1:
          op = "try_get";
          got = to_string(c.try_get());
          want = to_string(model.try_get());
          break;
        case 2:
          op = "put";
          got = to_string(c.put());
          want = to_string(model.put());
          break;
        case 3:
          op = "pin";
          got = to_string(c.try_pin(kind));
          want = to_string(model.try_pin(kind));
          break;
        case 4:
          op = "unpin";
          got = to_string(c.unpin(kind));
          want = to_string(model.unpin(kind));
          break;
        default: {
          const std::uint32_t refs = PickEdge(rng, std::min(limits.max_refs, 1u << 30));
          const std::uint32_t read = PickEdge(rng, std::min(limits.max_read_pins, 64u));
          const std::uint32_t write = PickEdge(rng, std::min(limits.max_write_pins, 64u));
          const bool saturated = rng() % 8 == 0;
          op = "set";
          got = c.reset(refs, read, write, saturated) ? "set" : "refused";
          want = model.reset(refs, read, write, saturated) ? "set" : "refused";
          break;
        }
      }
      const std::string where =
          GetParam() + " seed " + std::to_string(seed) + " step " + std::to_string(step) + " " + op;
      ASSERT_EQ(got, want) << where;
      const std::vector<Misuse> reported = misuse.take();
      if (model.misuse() && op != "set") {
        ASSERT_EQ(reported.size(), 1u) << where;
        ASSERT_EQ(reported[0], *model.misuse()) << where;
      } else {
        ASSERT_TRUE(reported.empty()) << where << " reported " << to_string(reported[0]);
      }
      ASSERT_TRUE(model.matches(c.state())) << where << ": raw 0x" << std::hex << c.state().raw
                                            << " vs model 0x" << model.state().raw;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, RefcountModelTest, testing::ValuesIn(KnownRefcounts()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace pinsplit
