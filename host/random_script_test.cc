// SPDX-License-Identifier: MIT
// Random fidelity scripts are valid for the model (never refused, no violation under
// anon-exclusive) and reproducible from their seed.
#include "random_script.h"

#include "gtest/gtest.h"
#include "pinsplit/mm/mm_replay.h"

namespace pinsplit::host {
namespace {

TEST(RandomMmScript, TheModelRunsEveryOneAndTheSeedReproducesIt) {
  int pins = 0, forks = 0;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    const std::string text = RandomMmScript(seed);
    EXPECT_EQ(text, RandomMmScript(seed));
    absl::StatusOr<mm::MmScript> script = mm::ParseMmScript(text);
    ASSERT_TRUE(script.ok()) << script.status() << "\n" << text;
    mm::MmOptions options;
    options.policy = "anon-exclusive";
    absl::StatusOr<mm::MmReplayResult> result = mm::ReplayMmScript(*script, options);
    ASSERT_TRUE(result.ok()) << result.status() << "\n" << text;
    EXPECT_TRUE(result->violations.empty()) << result->violations[0] << "\n" << text;
    for (const mm::MmOp& op : script->ops) {
      pins += op.kind == mm::MmOpKind::kPin;
      forks += op.kind == mm::MmOpKind::kFork;
    }
  }
  EXPECT_GT(pins, 300);  // every kind of operation shows up, not just the easy ones
  EXPECT_GT(forks, 300);
  EXPECT_NE(RandomMmScript(1), RandomMmScript(2));
}

}  // namespace
}  // namespace pinsplit::host
