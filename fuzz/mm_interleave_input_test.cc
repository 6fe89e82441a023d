// SPDX-License-Identifier: MIT
// The mm_interleave format: codec round trips, script errors, clean random inputs on the
// correct model, and the teeth chain without libFuzzer: a schedule the exhaustive search found
// against a broken build, encoded as fuzz bytes, makes the target's verdict fail, decodes to a
// script, and that script replays to the same violation (and passes on the correct model).
#include "mm_interleave_input.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace pinsplit {
namespace {

TEST(MmInterleaveInput, RoundTripsThroughBytesAndScripts) {
  std::mt19937_64 rng(12);
  for (int i = 0; i < 200; ++i) {
    std::string bytes(2 + rng() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const MmInterleaveInput input = DecodeMmInterleave(bytes);
    const std::string script = FormatMmInterleaveScript(input);
    absl::StatusOr<MmInterleaveInput> parsed = ParseMmInterleaveScript(script);
    ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << script;
    EXPECT_EQ(FormatMmInterleaveScript(*parsed), script);
    EXPECT_EQ(FormatMmInterleaveScript(DecodeMmInterleave(EncodeMmInterleave(*parsed))), script);
  }
}

TEST(MmInterleaveInput, ScriptErrorsNameLineAndColumn) {
  absl::StatusOr<MmInterleaveInput> bad =
      ParseMmInterleaveScript("mm-interleave split correct\nthread 1: pin-write p0 7\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2, column 10"), std::string::npos) << bad.status();
  EXPECT_FALSE(ParseMmInterleaveScript("mm-interleave split nonsense\n").ok());
  EXPECT_FALSE(ParseMmInterleaveScript("thread 1: fork p0\n").ok());
  EXPECT_TRUE(LooksLikeMmInterleaveScript("# c\nmm-interleave split correct\n"));
  EXPECT_FALSE(LooksLikeMmInterleaveScript("spawn A\n"));
}

TEST(MmInterleaveInput, RandomInputsOnTheCorrectModelAreClean) {
  std::mt19937_64 rng(7);
  int fast = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(2 + rng() % 400, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (i % 2 == 1) bytes[1] = static_cast<char>(bytes[1] | 2);  // three threads
    // Every other input keeps long runs of one thread: fewer, longer-lived preemptions.
    for (std::size_t k = 12; i % 4 < 2 && k < bytes.size(); ++k) {
      if (rng() % 8 != 0) bytes[k] = bytes[k - 1];
    }
    absl::StatusOr<std::optional<std::string>> verdict = MmInterleaveVerdict(bytes, "");
    ASSERT_TRUE(verdict.ok()) << verdict.status();
    EXPECT_FALSE(verdict->has_value()) << **verdict;
    absl::StatusOr<MmRunVerdict> run = RunMmInterleave(DecodeMmInterleave(bytes));
    ASSERT_TRUE(run.ok());
    fast += run->fast_pins;
  }
  EXPECT_GT(fast, 0);  // the lockless path ran
}

// The first violating schedule of pin-write vs fork under `variant` (bounded exhaustive search).
std::optional<MmInterleaveInput> FindSlip(MmModelVariant variant) {
  MmInterleaveInput input;
  input.program = {
      "split", false, {{{MmThreadOpKind::kPinWrite, 0, 0}}, {{MmThreadOpKind::kFork}}}};
  input.variant = variant;
  absl::StatusOr<std::unique_ptr<MmInterleaveRunner>> runner =
      MmInterleaveRunner::Create("split", variant);
  if (!runner.ok()) return std::nullopt;
  ExhaustiveChooser explorer(2);
  do {
    MmRunVerdict v = (*runner)->Run(input.program, explorer);
    if (!v.violations.empty()) {
      input.schedule = v.choices;
      return input;
    }
  } while (explorer.Advance());
  return std::nullopt;
}

TEST(MmInterleaveInput, BrokenBuildsCrashTheTargetAndTheirScriptsReplay) {
  for (MmModelVariant variant : {MmModelVariant::kNoSeqRecheck, MmModelVariant::kRecheckBeforePin,
                                 MmModelVariant::kLateForkBump}) {
    const std::string name(VariantName(variant));
    std::optional<MmInterleaveInput> slip = FindSlip(variant);
    ASSERT_TRUE(slip.has_value()) << name;
    const std::string bytes = EncodeMmInterleave(*slip);
    absl::StatusOr<std::optional<std::string>> broken = MmInterleaveVerdict(bytes, name);
    ASSERT_TRUE(broken.ok());
    ASSERT_TRUE(broken->has_value()) << name;
    EXPECT_NE((*broken)->find("long-term pin coherence"), std::string::npos) << **broken;
    // The same bytes on the correct model: clean.
    absl::StatusOr<std::optional<std::string>> correct = MmInterleaveVerdict(bytes, "");
    ASSERT_TRUE(correct.ok());
    EXPECT_FALSE(correct->has_value());
    // Decoded, the script replays to the violation.
    absl::StatusOr<std::string> script = DecodeMmInterleaveText(bytes, name, "");
    ASSERT_TRUE(script.ok());
    EXPECT_NE(script->find("# violation: long-term pin coherence"), std::string::npos) << *script;
    absl::StatusOr<bool> clean = ReplayMmInterleaveScript(*script, nullptr);
    ASSERT_TRUE(clean.ok()) << clean.status();
    EXPECT_FALSE(*clean) << *script;
  }
}

// Found by libFuzzer against broken:recheck-before-pin (the runner, not the model, failed): C
// exits and P's fork reuses C's slot; a pin on that slot starts after the fork finished in the
// model but before it returned, so the oracle did not know the child yet, and placing the pin
// at the call's start threw. The pin now waits for the fork to be told.
TEST(MmInterleaveInput, APinOnASlotWhoseForkHasNotReturnedIsPlacedAfterIt) {
  const std::string script = R"(mm-interleave anon-exclusive broken:recheck-before-pin
prefork
thread 1: pin-write p1 1, pin-write p1 1, pin-write p1 1
thread 2: pin-write p1 1, pin-write p1 1, pin-write p1 1
thread 3: pin-write p1 1, exit p1, fork p0
schedule 2 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 2 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 2 3 3 3 3 2 2 2 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1
)";
  absl::StatusOr<bool> clean = ReplayMmInterleaveScript(script, nullptr);
  ASSERT_TRUE(clean.ok()) << clean.status();
  EXPECT_TRUE(*clean);
}

}  // namespace
}  // namespace pinsplit
