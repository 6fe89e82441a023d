// SPDX-License-Identifier: MIT
#include "pinsplit/op_script.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "pinsplit/any_refcount.h"
#include "pinsplit/refcount_replay.h"

namespace pinsplit {
namespace {

using testing::HasSubstr;

TEST(OpScriptTest, ParsesEveryOperationWithCommentsAndResults) {
  absl::StatusOr<CounterScript> script = ParseCounterScript(
      "# a comment line\n"
      "\n"
      "get => ok   # trailing comment\n"
      "try_get\n"
      "put => live\n"
      "pin read => pinned\n"
      "unpin write => last\n"
      "set refs=3 read=0x2 write=1 saturated=no\n"
      "expect refs=3 dead=no\n");
  ASSERT_TRUE(script.ok()) << script.status();
  ASSERT_EQ(script->ops.size(), 7u);
  EXPECT_EQ(script->ops[0].kind, CounterOpKind::kGet);
  EXPECT_EQ(script->ops[0].result, "ok");
  EXPECT_EQ(script->ops[0].line, 3);
  EXPECT_EQ(script->ops[3].kind, CounterOpKind::kPin);
  EXPECT_EQ(script->ops[3].pin, PinKind::kRead);
  EXPECT_EQ(script->ops[4].pin, PinKind::kWrite);
  EXPECT_EQ(script->ops[5].spec.read, 2u);
  EXPECT_EQ(script->ops[5].spec.saturated, false);
  EXPECT_EQ(script->ops[6].spec.dead, false);
}

TEST(OpScriptTest, FormatPrintsWhatTheParserReadsBack) {
  const std::string text =
      "get => ok\ntry_get => full\nput => last\npin write => full\nunpin read\n"
      "set refs=1 read=2 write=3 saturated=yes\nexpect refs=0 saturated=yes dead=no\n";
  absl::StatusOr<CounterScript> script = ParseCounterScript(text);
  ASSERT_TRUE(script.ok()) << script.status();
  std::string printed;
  for (const CounterOp& op : script->ops) printed += Format(op) + "\n";
  EXPECT_EQ(printed, text);
}

struct BadScript {
  const char* text;
  const char* error;
};

class OpScriptErrorTest : public testing::TestWithParam<BadScript> {};

TEST_P(OpScriptErrorTest, NamesLineColumnAndWhatWasWrong) {
  absl::StatusOr<CounterScript> script = ParseCounterScript(GetParam().text);
  ASSERT_FALSE(script.ok());
  EXPECT_EQ(script.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(script.status().message()), HasSubstr(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, OpScriptErrorTest,
    testing::Values(BadScript{"get\nfrobnicate\n", "line 2, column 1: unknown operation"},
                    BadScript{"pin sideways", "line 1, column 5: expected 'read' or 'write'"},
                    BadScript{"pin", "line 1, column 4: 'pin' needs 1 argument"},
                    BadScript{"get extra", "line 1, column 5: unexpected 'extra'"},
                    BadScript{"put => ok", "line 1, column 8: 'put' results are live, last"},
                    BadScript{"get =>", "'=>' needs a result"},
                    BadScript{"get => ok ok", "line 1, column 11: '=>' takes exactly one"},
                    BadScript{"set refs=x", "line 1, column 10: refs must be a number"},
                    BadScript{"set refs=99999999999",
                              "refs '99999999999' is out of range 0..4294967295"},
                    BadScript{"set refs=0x1g", "refs must be a number (decimal or 0x hex)"},
                    BadScript{"\xEF\xBB\xBFget",
                              "line 1, column 1: the file starts with a UTF-8 "
                              "byte-order mark"},
                    BadScript{"set dead=yes", "unknown key 'dead'"},
                    BadScript{"expect color=red", "unknown key 'color'"},
                    BadScript{"expect saturated=maybe", "'saturated' needs yes or no"},
                    BadScript{"expect refs=1 refs=2", "'refs' given twice"},
                    BadScript{"expect", "expected key=value pairs"},
                    BadScript{"set refs=1 => ok", "'set' has no result"}));

ReplayResult Replay(std::string_view impl, std::string_view text, std::string* trace = nullptr) {
  absl::StatusOr<CounterScript> script = ParseCounterScript(text);
  EXPECT_TRUE(script.ok()) << script.status();
  auto counter = MakeRefcount(impl);
  EXPECT_TRUE(counter.ok());
  std::ostringstream out;
  absl::StatusOr<ReplayResult> result = ReplayCounterScript(*script, **counter, &out);
  EXPECT_TRUE(result.ok()) << result.status();
  if (trace != nullptr) *trace = out.str();
  return result.ok() ? *result : ReplayResult{};
}

TEST(RefcountReplayTest, PassingAssertionsReportNoFailures) {
  const ReplayResult r = Replay("split",
                                "pin write => pinned\nput => live\nexpect refs=0 write=1\n"
                                "unpin write => last\nexpect dead=yes\n");
  EXPECT_TRUE(r.failures.empty());
  EXPECT_EQ(r.steps, 5);
}

TEST(RefcountReplayTest, FailedAssertionsNameTheLineAndTheDifference) {
  const ReplayResult r = Replay("split", "get\nput => last\nexpect refs=5 read=1\n");
  ASSERT_EQ(r.failures.size(), 3u);
  EXPECT_THAT(r.failures[0], HasSubstr("line 2: put => last: expected result last, got live"));
  EXPECT_THAT(r.failures[1], HasSubstr("line 3: expect refs=5 read=1: expected refs=5, got 1"));
  EXPECT_THAT(r.failures[2], HasSubstr("expected read=1, got 0"));
}

TEST(RefcountReplayTest, BiasChecksPinsOnlyAsASumAndSaysSo) {
  std::string trace;
  ReplayResult r = Replay("bias", "pin read\npin write\nexpect refs=1 read=1 write=1\n");
  EXPECT_TRUE(r.failures.empty());
  r = Replay("bias", "pin read\nexpect read=1\n", &trace);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_THAT(trace, HasSubstr("unchecked on bias"));
  // 1024 references are indistinguishable from a pin: the sum check sees one.
  r = Replay("bias", "set refs=1024\nexpect refs=0 read=1 write=0\n");
  EXPECT_TRUE(r.failures.empty());
}

TEST(RefcountReplayTest, PlainChecksReferencesAndPinsTogether) {
  ReplayResult r = Replay("plain", "pin read\nexpect refs=1 read=1 write=0\n");
  EXPECT_TRUE(r.failures.empty());
  r = Replay("plain", "pin read\nexpect refs=1 read=0 write=0\n");
  EXPECT_EQ(r.failures.size(), 1u);
}

TEST(RefcountReplayTest, SetBeyondTheLayoutIsAnInputErrorNotAFailure) {
  absl::StatusOr<CounterScript> script = ParseCounterScript("get\nset read=16\n");
  ASSERT_TRUE(script.ok());
  auto counter = MakeRefcount("split");
  ASSERT_TRUE(counter.ok());
  absl::StatusOr<ReplayResult> result = ReplayCounterScript(*script, **counter);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("line 2: split:4/4/24 cannot hold 'read=16'"));
}

TEST(RefcountReplayTest, MisuseIsTracedWithTheWordItFound) {
  std::string trace;
  Replay("split", "put => last\nput => live\n", &trace);
  EXPECT_THAT(trace, HasSubstr("misuse: put-on-dead (split:4/4/24, word was 0x00200000)"));
}

TEST(AnyRefcountTest, KnowsTheSeedLayoutTheIssueLayoutsAndBothRivals) {
  for (const char* name : {"split", "split:4/4/24", "split:3/5/24", "split:2/6/24", "split:8/8/16",
                           "split:10/10/12", "bias", "plain"}) {
    EXPECT_TRUE(MakeRefcount(name).ok()) << name;
  }
  const auto bad = MakeRefcount("split:5/5/5");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("known: split, split:4/4/24"));
}

}  // namespace
}  // namespace pinsplit
