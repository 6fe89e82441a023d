// SPDX-License-Identifier: MIT
// The fiber engine replays exactly what the thread engine (the scheduler before fibers) did:
// the same decisions, the same recorded choices, the same step owners, the same results and
// the same verdicts, on
//   - every seed of the interleave corpus (fuzz/corpus/interleave), on its counter and on the
//     broken put the proof of teeth hunts;
//   - the regression input of the teeth tests (the put/unpin race), which must stay a
//     violation on the broken put and clean on split under both engines;
//   - random schedules (RandomChooser, fixed seeds) of small programs on every counter;
//   - the exhaustive search of a program: the same number of schedules and violations.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "deterministic_atomic.h"
#include "deterministic_refcounts.h"
#include "interleave_replay.h"
#include "pinsplit/interleave_script.h"

namespace pinsplit {
namespace {

InterleaveOptions On(SchedulerEngine engine) {
  InterleaveOptions options;
  options.record_accesses = true;
  options.engine = engine;
  return options;
}

// Everything a run decided and observed, as one comparable text.
std::string Fingerprint(const InterleaveScript& script, const InterleaveRun& run) {
  std::ostringstream out;
  out << "choices " << absl::StrJoin(run.schedule.choices, " ") << "\nsteps "
      << absl::StrJoin(run.schedule.step_threads, " ") << "\n"
      << FormatInterleaveRun(script, run) << "raw " << run.final_state.raw << "\n";
  return out.str();
}

void ExpectSameOnBothEngines(const InterleaveScript& script, const std::string& impl,
                             Chooser& fiber_chooser, Chooser& thread_chooser,
                             const std::string& what) {
  auto fibers = InterleaveRunner::Create(script, impl, On(SchedulerEngine::kFibers));
  auto threads = InterleaveRunner::Create(script, impl, On(SchedulerEngine::kThreads));
  ASSERT_EQ(fibers.ok(), threads.ok()) << what;
  if (!fibers.ok()) return;
  const InterleaveRun a = (*fibers)->Run(fiber_chooser);
  const InterleaveRun b = (*threads)->Run(thread_chooser);
  EXPECT_EQ(a.verdict.linearizable, b.verdict.linearizable) << what;
  EXPECT_EQ(a.failures, b.failures) << what;
  EXPECT_EQ(Fingerprint(script, a), Fingerprint(script, b)) << what;
}

std::vector<std::filesystem::path> CorpusSeeds() {
  std::vector<std::filesystem::path> seeds;
  for (const auto& entry :
       std::filesystem::directory_iterator(PINSPLIT_SOURCE_DIR "/fuzz/corpus/interleave")) {
    if (entry.path().extension() == ".ops") seeds.push_back(entry.path());
  }
  return seeds;
}

// The counters a seed names on its `# impls:` line (split when none).
std::vector<std::string> ImplsOf(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# impls: ", 0) == 0) {
      std::vector<std::string> names;
      std::istringstream words(line.substr(9));
      std::string w;
      while (words >> w) names.push_back(w);
      return names;
    }
  }
  return {"split"};
}

TEST(SchedulerEnginesTest, EveryCorpusSeedReplaysIdenticallyOnBothEngines) {
  const auto seeds = CorpusSeeds();
  ASSERT_GE(seeds.size(), 6u);
  for (const auto& path : seeds) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(text.str());
    ASSERT_TRUE(script.ok()) << path << ": " << script.status();
    std::vector<std::string> impls = ImplsOf(text.str());
    impls.push_back("broken:put-reread");
    for (const std::string& impl : impls) {
      PreferenceChooser a(script->schedule), b(script->schedule);
      ExpectSameOnBothEngines(*script, impl, a, b, path.string() + " on " + impl);
      // The seeds are clean on their own counters under the fiber engine, as before.
      if (impl != "broken:put-reread") {
        auto replay = ReplayInterleaveScript(*script, impl);
        ASSERT_TRUE(replay.ok());
        EXPECT_TRUE(replay->failures.empty()) << path << " on " << impl;
      }
    }
  }
}

TEST(SchedulerEnginesTest, TheTeethRegressionInputKeepsItsVerdictOnBothEngines) {
  // The put/unpin race that the teeth tests find: a double free on the broken put only.
  absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(
      "set refs=1 write=1\nthread 1 put\nthread 2 unpin write\nschedule 1 2 2 1\n");
  ASSERT_TRUE(script.ok());
  for (SchedulerEngine engine : {SchedulerEngine::kFibers, SchedulerEngine::kThreads}) {
    auto broken = ReplayInterleaveScript(*script, "broken:put-reread", On(engine));
    ASSERT_TRUE(broken.ok());
    EXPECT_FALSE(broken->verdict.linearizable);
    auto real = ReplayInterleaveScript(*script, "split", On(engine));
    ASSERT_TRUE(real.ok());
    EXPECT_TRUE(real->failures.empty());
  }
  PreferenceChooser a(script->schedule), b(script->schedule);
  ExpectSameOnBothEngines(*script, "broken:put-reread", a, b, "teeth input");
}

TEST(SchedulerEnginesTest, RandomSchedulesMatchOnEveryCounter) {
  absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(
      "set refs=2 read=1\n"
      "thread 1 get\nthread 1 pin write\nthread 1 put\n"
      "thread 2 put\nthread 2 try_get\nthread 2 unpin read\n"
      "thread 3 pin read\nthread 3 unpin read\nthread 3 put\n");
  ASSERT_TRUE(script.ok());
  std::vector<std::string> impls = CorrectRefcountNames();
  for (const std::string& b : BrokenRefcountNames()) impls.push_back(b);
  for (const std::string& impl : impls) {
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
      RandomChooser a(seed), b(seed);
      ExpectSameOnBothEngines(*script, impl, a, b,
                              impl + " seed " + std::to_string(static_cast<int>(seed)));
    }
  }
}

TEST(SchedulerEnginesTest, ExhaustiveSearchesVisitTheSameSchedules) {
  absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(
      "set refs=1 write=1\nthread 1 put\nthread 1 try_get\nthread 2 unpin write\n"
      "thread 2 pin read\nthread 3 try_get\n");
  ASSERT_TRUE(script.ok());
  for (const std::string impl : {"split", "broken:put-reread"}) {
    auto fibers = ExploreAllInterleavings(*script, impl, On(SchedulerEngine::kFibers));
    auto threads = ExploreAllInterleavings(*script, impl, On(SchedulerEngine::kThreads));
    ASSERT_TRUE(fibers.ok() && threads.ok());
    EXPECT_EQ(fibers->interleavings, threads->interleavings) << impl;
    EXPECT_EQ(fibers->violations, threads->violations) << impl;
    EXPECT_GT(fibers->interleavings, 10u);
    if (fibers->first_violation) {
      ASSERT_TRUE(threads->first_violation.has_value());
      EXPECT_EQ(Fingerprint(*script, *fibers->first_violation),
                Fingerprint(*script, *threads->first_violation));
    }
  }
}

TEST(SchedulerEnginesTest, BareAtomicsTakeTheSameStepsOnBothEngines) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    std::vector<std::uint32_t> finals;
    std::vector<RunOutcome> outcomes;
    for (SchedulerEngine engine : {SchedulerEngine::kFibers, SchedulerEngine::kThreads}) {
      DeterministicScheduler scheduler(engine);
      DeterministicAtomic<std::uint32_t> word(3);
      std::vector<std::function<void()>> bodies;
      for (int t = 0; t < 4; ++t) {
        bodies.push_back([&word, t] {
          for (int i = 0; i <= t; ++i) {
            std::uint32_t v = word.load();
            word.compare_exchange_strong(v, v * 3 + static_cast<std::uint32_t>(t));
          }
        });
      }
      RandomChooser chooser(seed);
      outcomes.push_back(scheduler.Run(bodies, chooser));
      finals.push_back(word.load());
    }
    EXPECT_EQ(finals[0], finals[1]) << seed;
    EXPECT_EQ(outcomes[0].choices, outcomes[1].choices) << seed;
    EXPECT_EQ(outcomes[0].step_threads, outcomes[1].step_threads) << seed;
  }
}

}  // namespace
}  // namespace pinsplit
