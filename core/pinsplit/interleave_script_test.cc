// SPDX-License-Identifier: MIT
#include "pinsplit/interleave_script.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pinsplit {
namespace {

using testing::HasSubstr;

constexpr char kScript[] =
    "# the put/unpin race\n"
    "set refs=1 write=1\n"
    "thread 1 put => live      # a comment\n"
    "thread 2 unpin write\n"
    "thread 2 try_get => dead\n"
    "schedule 1 2\n"
    "schedule 1 1\n"
    "expect dead=yes\n";

TEST(InterleaveScriptTest, ParsesThreadsScheduleSetAndExpect) {
  absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(kScript);
  ASSERT_TRUE(script.ok()) << script.status();
  ASSERT_TRUE(script->initial.has_value());
  EXPECT_EQ(script->initial->spec.refs, 1u);
  EXPECT_EQ(script->initial->spec.write, 1u);
  ASSERT_EQ(script->threads.size(), 2u);
  ASSERT_EQ(script->threads[0].size(), 1u);
  EXPECT_EQ(script->threads[0][0].kind, CounterOpKind::kPut);
  EXPECT_EQ(script->threads[0][0].result, "live");
  EXPECT_EQ(script->threads[0][0].line, 3);
  ASSERT_EQ(script->threads[1].size(), 2u);
  EXPECT_EQ(script->threads[1][0].kind, CounterOpKind::kUnpin);
  EXPECT_EQ(script->threads[1][0].pin, PinKind::kWrite);
  EXPECT_EQ(script->schedule, (std::vector<int>{1, 2, 1, 1}));
  ASSERT_EQ(script->expects.size(), 1u);
  EXPECT_EQ(script->expects[0].spec.dead, true);
}

TEST(InterleaveScriptTest, FormatIsReadBackToTheSameScript) {
  absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(kScript);
  ASSERT_TRUE(script.ok());
  const std::string text = FormatInterleaveScript(*script);
  EXPECT_EQ(text,
            "set refs=1 write=1\n"
            "thread 1 put => live\n"
            "thread 2 unpin write\n"
            "thread 2 try_get => dead\n"
            "schedule 1 2 1 1\n"
            "expect dead=yes\n");
  absl::StatusOr<InterleaveScript> again = ParseInterleaveScript(text);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *script);
}

TEST(InterleaveScriptTest, TellsTheDialectsApart) {
  EXPECT_TRUE(LooksLikeInterleaveScript(kScript));
  EXPECT_TRUE(LooksLikeInterleaveScript("  schedule 1\n"));
  EXPECT_FALSE(LooksLikeInterleaveScript("get\n# thread 1 get\nput\n"));
}

TEST(InterleaveScriptTest, ErrorsNameTheLineAndColumn) {
  auto error = [](std::string_view text) {
    absl::StatusOr<InterleaveScript> s = ParseInterleaveScript(text);
    return s.ok() ? std::string("ok") : std::string(s.status().message());
  };
  EXPECT_EQ(error("thread 1 get\nthread 5 put\n"),
            "line 2, column 8: thread id '5' is out of range 1..4");
  EXPECT_EQ(error("thread 1 pin sideways\n"),
            "line 1, column 14: expected 'read' or 'write', got 'sideways'");
  EXPECT_THAT(error("thread 1 get\nget\n"), HasSubstr("line 2, column 1: 'get' outside a thread"));
  EXPECT_THAT(error("thread 1 get\nthread 3 get\n"), HasSubstr("thread 2 has no operations"));
  EXPECT_THAT(error("thread 1 get\nschedule 1 2\n"),
              HasSubstr("line 2, column 12: schedule names thread 2"));
  EXPECT_THAT(error("thread 1 get\nset refs=2\n"), HasSubstr("before the first thread line"));
  EXPECT_THAT(error("thread 1 set refs=2\n"), HasSubstr("cannot run in a thread"));
  EXPECT_THAT(error("set refs=2\n"), HasSubstr("needs at least one 'thread N OP' line"));
  EXPECT_THAT(error("thread 1 get => live\n"), HasSubstr("line 1, column 17: 'get' results are"));
}

}  // namespace
}  // namespace pinsplit
