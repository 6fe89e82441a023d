// SPDX-License-Identifier: MIT
// The fuzz input codecs, random-input smoke runs of both targets' checks, and the proof of
// teeth without the fuzzing engine: a fixed-seed random search over interleave inputs must find
// the deliberately broken put, and its decoded script must replay to the same verdict.
#include "fuzz_input.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "broken_refcounts.h"
#include "deterministic_refcounts.h"
#include "interleave_replay.h"
#include "pinsplit/any_refcount.h"
#include "pinsplit/refcount_adapter.h"
#include "pinsplit/refcount_replay.h"
#include "pinsplit/split_refcount.h"

namespace pinsplit {
namespace {

using testing::HasSubstr;

std::string RandomBytes(std::mt19937& rng, std::size_t max_len) {
  std::string out(rng() % (max_len + 1), '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xFF);
  return out;
}

TEST(FuzzInputTest, TheBoundaryTableHoldsEveryFieldEdge) {
  const auto& v = BoundaryValues();
  for (std::uint32_t x : {0u, 1u, 14u, 15u, 16u, 1022u, 1023u, 1024u, 4194303u, 4194304u, 2097150u,
                          2147483647u, 2147483648u, 4294967295u}) {
    EXPECT_NE(std::find(v.begin(), v.end(), x), v.end()) << x;
  }
  EXPECT_LT(v.size(), 0xFFu);  // index 0xFF is the raw-value escape
}

TEST(FuzzInputTest, RefcountOpsBytesAreDocumentedAndInvertible) {
  const std::string text =
      "get\ntry_get\nput\npin read\npin write\nunpin read\nunpin write\n"
      "set refs=1 read=14 write=0 saturated=yes\nset refs=123456 read=0 write=0\n";
  absl::StatusOr<std::string> bytes = EncodeFuzzInput("refcount_ops", text);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const auto& table = BoundaryValues();
  auto index = [&](std::uint32_t x) {
    return static_cast<char>(std::find(table.begin(), table.end(), x) - table.begin());
  };
  const std::string expected = std::string("\x00\x01\x02\x03\x04\x05\x06", 7) + "\x07" + index(1) +
                               index(14) + index(0) + "\x01" + "\x07\xFF" +
                               std::string("\x40\xE2\x01\x00", 4) + index(0) + index(0) + '\0';
  EXPECT_EQ(*bytes, expected);
  const std::vector<CounterOp> ops = DecodeRefcountOps(*bytes);
  ASSERT_EQ(ops.size(), 9u);
  EXPECT_EQ(Format(ops[7]), "set refs=1 read=14 write=0 saturated=yes");
  EXPECT_EQ(Format(ops[8]), "set refs=123456 read=0 write=0");
  EXPECT_EQ(EncodeRefcountOps(ops), *bytes);
}

TEST(FuzzInputTest, InterleaveBytesAreDocumentedAndInvertible) {
  const std::string text =
      "# impls: bias\nset refs=1 write=1\nthread 1 put\nthread 2 unpin write\n"
      "thread 2 try_get\nschedule 1 2 1\n";
  absl::StatusOr<std::string> bytes = EncodeFuzzInput("interleave", text);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const auto counters = InterleaveCounters();
  const char bias =
      static_cast<char>(std::find(counters.begin(), counters.end(), "bias") - counters.begin());
  ASSERT_GE(bytes->size(), 3u);
  EXPECT_EQ((*bytes)[0], bias);
  EXPECT_EQ((*bytes)[1], 0);  // 2 threads
  EXPECT_EQ((*bytes)[2], 1);  // a set follows
  const InterleaveInput input = DecodeInterleave(*bytes);
  EXPECT_EQ(input.counter_index, static_cast<std::size_t>(bias));
  EXPECT_EQ(FormatInterleaveScript(input.script),
            "set refs=1 read=0 write=1\nthread 1 put\nthread 2 unpin write\nthread 2 try_get\n"
            "schedule 1 2 1\n");
  EXPECT_EQ(EncodeInterleave(input), *bytes);
}

TEST(FuzzInputTest, AnyBytesDecodeAndDecodedTextEncodesBackToTheSameText) {
  std::mt19937 rng(7);
  for (int i = 0; i < 150; ++i) {
    const std::string bytes = RandomBytes(rng, i < 100 ? 40 : 300);
    for (const std::string target : {"refcount_ops", "interleave"}) {
      absl::StatusOr<std::string> text = DecodeFuzzInput(target, bytes);
      ASSERT_TRUE(text.ok()) << target << ": " << text.status();
      absl::StatusOr<std::string> again = EncodeFuzzInput(target, *text);
      ASSERT_TRUE(again.ok()) << target << ": " << again.status() << "\n" << *text;
      absl::StatusOr<std::string> text2 = DecodeFuzzInput(target, *again);
      ASSERT_TRUE(text2.ok());
      ASSERT_EQ(*text2, *text) << target << " sample " << i;
    }
  }
}

TEST(FuzzInputTest, DecodedRefcountOpsReplayCleanOnEveryCounter) {
  std::mt19937 rng(11);
  for (int i = 0; i < 60; ++i) {
    const std::string bytes = RandomBytes(rng, 120);
    for (const std::string& name : CorrectRefcountNames()) {
      DecodeOptions options;
      options.impl = name;
      absl::StatusOr<std::string> text = DecodeFuzzInput("refcount_ops", bytes, options);
      ASSERT_TRUE(text.ok());
      EXPECT_THAT(*text, HasSubstr("fuzzer verdict on " + name + ": no difference"));
      absl::StatusOr<CounterScript> script = ParseCounterScript(*text);
      ASSERT_TRUE(script.ok()) << script.status() << "\n" << *text;
      auto counter = MakeRefcount(name);
      absl::StatusOr<ReplayResult> replay = ReplayCounterScript(*script, **counter);
      ASSERT_TRUE(replay.ok()) << replay.status() << "\n" << *text;
      EXPECT_TRUE(replay->failures.empty()) << replay->failures[0] << "\n" << *text;
    }
  }
}

// Proof of teeth for the predicate check: a counter whose every count, result and state is
// right but whose is_pinned_writable() lies (it answers for read pins too) is caught by
// refcount_ops on random inputs from a fixed seed, and only through the predicate.
TEST(FuzzInputTest, RefcountOpsCatchesAPredicateThatLies) {
  std::mt19937 rng(20210115);
  int found_at = 0;
  std::string difference;
  for (int i = 1; i <= 500 && found_at == 0; ++i) {
    const std::vector<CounterOp> ops = DecodeRefcountOps(RandomBytes(rng, 60));
    RefcountAdapter<WritablePredicateLiesSplitRefcount<>> liar(1);
    const RefcountOpsOutcome outcome = RunRefcountOps(ops, liar, false);
    // The correct counter with the same layout agrees with the model on the same input.
    RefcountAdapter<SplitRefcount<>> honest(1);
    ASSERT_FALSE(RunRefcountOps(ops, honest, false).difference.has_value());
    if (outcome.difference) {
      found_at = i;
      difference = *outcome.difference;
    }
  }
  ASSERT_NE(found_at, 0) << "the lying predicate passed 500 random inputs";
  EXPECT_THAT(difference, HasSubstr("predicates: is_pinned_writable true, model says false"));
  std::printf("lying is_pinned_writable caught on input %d: %s\n", found_at, difference.c_str());
}

TEST(FuzzInputTest, RandomInterleaveInputsLinearizeOnEveryCorrectCounter) {
  std::mt19937 rng(3);
  for (int i = 0; i < 400; ++i) {
    const std::string bytes = RandomBytes(rng, 80);
    const InterleaveInput input = DecodeInterleave(bytes);
    const std::string impl = InterleaveCounters()[input.counter_index];
    auto runner = InterleaveRunner::Create(input.script, impl);
    if (!runner.ok()) continue;
    PreferenceChooser chooser(input.script.schedule);
    const InterleaveRun run = (*runner)->Run(chooser);
    ASSERT_TRUE(run.failures.empty()) << impl << "\n"
                                      << *DecodeFuzzInput("interleave", bytes) << "\n"
                                      << FormatInterleaveRun(input.script, run);
  }
}

TEST(FuzzInputTest, ARandomSearchFindsTheRereadingPutAndItsDecodeReplaysTheViolation) {
  std::mt19937 rng(1);
  constexpr int kBudget = 20000;
  int tries = 0;
  std::string found;
  for (; tries < kBudget && found.empty(); ++tries) {
    const std::string bytes = RandomBytes(rng, 48);
    const InterleaveInput input = DecodeInterleave(bytes);
    if (input.misuse) continue;  // racing misuse has its own test below
    auto runner = InterleaveRunner::Create(input.script, "broken:put-reread");
    if (!runner.ok()) continue;
    PreferenceChooser chooser(input.script.schedule);
    if (!(*runner)->Run(chooser).failures.empty()) found = bytes;
  }
  ASSERT_FALSE(found.empty()) << "no violation in " << kBudget << " random inputs";
  std::cout << "found the broken put after " << tries << " random inputs\n";

  DecodeOptions options;
  options.impl = "broken:put-reread";
  absl::StatusOr<std::string> text = DecodeFuzzInput("interleave", found, options);
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("# replay: pinsplit replay --impl=broken:put-reread FILE"));
  EXPECT_THAT(*text, HasSubstr("# fuzzer verdict: not linearizable"));
  absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(*text);
  ASSERT_TRUE(script.ok()) << script.status();
  absl::StatusOr<InterleaveRun> replay = ReplayInterleaveScript(*script, "broken:put-reread");
  ASSERT_TRUE(replay.ok());
  EXPECT_FALSE(replay->verdict.linearizable) << *text;
  absl::StatusOr<InterleaveRun> real = ReplayInterleaveScript(*script, "split");
  ASSERT_TRUE(real.ok());
  EXPECT_TRUE(real->failures.empty()) << *text << FormatInterleaveRun(*script, *real);
}

TEST(FuzzInputTest, RacingMisuseBytesAreDocumentedAndInvertible) {
  // Thread 2 is the misuser; nobody else can hold a reference or a read pin, so its choices
  // are get, put, unpin read (MisuseChoices), coded 0, 1, 2.
  const std::string text =
      "# impls: split:6/6/20\nset refs=0 write=1\nthread 1 unpin write\n"
      "thread 2 misuse put\nthread 2 misuse get\nthread 2 misuse unpin read\nschedule 2 1 2\n";
  absl::StatusOr<std::string> bytes = EncodeFuzzInput("interleave", text);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ASSERT_GE(bytes->size(), 4u);
  EXPECT_EQ((*bytes)[1], 3);  // 2 threads, racing misuse
  const std::string tail = bytes->substr(bytes->size() - 7);
  EXPECT_EQ(tail, std::string("\x02\x01\x00\x02\x01\x00\x01", 7));
  const InterleaveInput input = DecodeInterleave(*bytes);
  EXPECT_TRUE(input.misuse);
  EXPECT_EQ(InterleaveCounterOf(input), "split:6/6/20");
  EXPECT_EQ(FormatInterleaveScript(input.script),
            "set refs=0 read=0 write=1\nthread 1 unpin write\nthread 2 misuse put\n"
            "thread 2 misuse get\nthread 2 misuse unpin read\nschedule 2 1 2\n");
  EXPECT_EQ(EncodeInterleave(input), *bytes);
  // The misuse counters are the split layouts, at the same indices as in InterleaveCounters().
  for (std::size_t i = 0; i < 64; ++i) {
    const InterleaveInput in = DecodeInterleave(std::string{static_cast<char>(i), 3});
    EXPECT_EQ(InterleaveCounterOf(in), InterleaveCounters()[in.counter_index]);
    EXPECT_EQ(InterleaveCounterOf(in).rfind("split", 0), 0u) << InterleaveCounterOf(in);
  }
  // A misuse the format cannot carry is an input error.
  for (const char* bad : {"thread 1 misuse put\nthread 2 get\n",
                          "set refs=0\nthread 1 pin read\nthread 2 misuse unpin read\n"}) {
    EXPECT_FALSE(EncodeFuzzInput("interleave", bad).ok()) << bad;
  }
}

TEST(FuzzInputTest, ARandomSearchFindsTheStoreRepairOnlyThroughRacingMisuse) {
  std::mt19937 rng(1);
  constexpr int kBudget = 20000;
  int tries = 0;
  std::string found;
  for (; tries < kBudget && found.empty(); ++tries) {
    const std::string bytes = RandomBytes(rng, 48);
    const InterleaveInput input = DecodeInterleave(bytes);
    auto runner = InterleaveRunner::Create(input.script, "broken:unpin-repair-store");
    if (!runner.ok()) continue;
    PreferenceChooser chooser(input.script.schedule);
    if ((*runner)->Run(chooser).failures.empty()) continue;
    ASSERT_TRUE(input.misuse) << "the broken repair acts only on misuse\n"
                              << *DecodeFuzzInput("interleave", bytes);
    found = bytes;
  }
  ASSERT_FALSE(found.empty()) << "no violation in " << kBudget << " random inputs";
  std::cout << "found the store repair after " << tries << " random inputs\n";
  DecodeOptions options;
  options.impl = "broken:unpin-repair-store";
  absl::StatusOr<std::string> text = DecodeFuzzInput("interleave", found, options);
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("# fuzzer verdict: racing misuse: "));
  absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(*text);
  ASSERT_TRUE(script.ok()) << script.status();
  absl::StatusOr<InterleaveRun> replay =
      ReplayInterleaveScript(*script, "broken:unpin-repair-store");
  ASSERT_TRUE(replay.ok());
  EXPECT_FALSE(replay->failures.empty()) << *text;
  absl::StatusOr<InterleaveRun> real =
      ReplayInterleaveScript(*script, InterleaveCounterOf(DecodeInterleave(found)));
  ASSERT_TRUE(real.ok()) << real.status() << "\n" << *text;
  EXPECT_TRUE(real->failures.empty()) << *text << FormatInterleaveRun(*script, *real);
}

TEST(FuzzInputTest, UnknownTargetsAndCountersAreInputErrors) {
  EXPECT_FALSE(DecodeFuzzInput("no_such_target", "").ok());
  DecodeOptions options;
  options.impl = "split:9/9/14";
  EXPECT_FALSE(DecodeFuzzInput("refcount_ops", "", options).ok());
  EXPECT_FALSE(DecodeFuzzInput("interleave", "", options).ok());
  EXPECT_FALSE(EncodeFuzzInput("interleave", "thread 1 get\n").ok());  // one thread
  EXPECT_FALSE(EncodeFuzzInput("refcount_ops", "frobnicate\n").ok());
}

}  // namespace
}  // namespace pinsplit
