// SPDX-License-Identifier: MIT
// Runs interleave scripts (core/pinsplit/interleave_script.h) on a counter built on
// DeterministicAtomic, under the DeterministicScheduler, and judges every run.
//
// What a run guarantees to check:
//   - every `thread N OP => RESULT` assertion, and every `expect` once all threads finished;
//   - that the history (each operation's result, misuse reports and step window) is
//     linearizable against RefcountModel started from the script's initial state, ending in
//     the counter's final decoded state (testing/linearizability.h);
//   - with check_predicates (the default), that the counter's predicates (is_pinned,
//     is_pinned_writable, and state()'s dead, saturated and pin counts), read by each thread
//     right after each of its operations, read what the model's say at some place in that
//     order (refcount_predicates.h). The reading takes no scheduling point, so schedules and
//     replays are those of a run without it; it sees every intermediate state another
//     thread's operation leaves at a step where this thread's operation ends.
//
// Ownership rules keep the threads inside the counters' contract, which is where the counters
// promise linearizability (misuse windows are documented as racy: split_refcount.h). The
// initial holders (refs, then read pins, then write pins of the `set`, or one reference) are
// dealt to the threads in one round-robin starting at thread 1, at most 4 of each kind per
// thread (`set refs=1 write=1` gives thread 1 the reference and thread 2 the pin); a saturated
// start gives every thread 4 references. A thread then runs
//   get            only while it holds a reference or a pin (the caller holds one already);
//   put            only while it holds a reference;   unpin K  only while it holds a K pin;
//   try_get, pin   always;
// and an operation it may not run is skipped: no access, not in the history, shown as skipped.
// Successful gets and pins add to the thread's holdings, puts and unpins take from them.
//
// A start from which plain could wrap (more than 2^32-1 holders) is refused as out of contract,
// and saturation reports are not compared (linearizability.h).
//
// Racing misuse. A script with `thread N misuse OP` lines (all in one thread, the misuser) runs
// those operations whatever the thread holds, racing the others, which keep the rules above;
// the misuser is dealt no initial holders. Only a split word takes such a script, and only
// when no correct thread can hold the kind a misused put or unpin drops (racing_misuse.h says
// why). Holdings then follow what each operation answered (racing_misuse.h), the predicate
// readings are off, and the run is judged by CheckRacingMisuse
// (racing_misuse.h: the misuse is reported, the fields stay exact for the holders, nothing is
// lost or freed early) instead of linearizability, which the header's repair windows rule out.
//
// Lives in testing/ rather than core/ because it judges against RefcountModel.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "deterministic_scheduler.h"
#include "linearizability.h"
#include "pinsplit/any_refcount.h"
#include "pinsplit/interleave_script.h"
#include "racing_misuse.h"

namespace pinsplit {

struct InterleaveOptions {
  bool check_misuse = true;      // misuse reports are part of each operation's result
  bool record_accesses = false;  // keep every access (for traces)
  bool check_predicates = true;  // read the predicates after every operation (see above)
  // Fibers by default; kThreads runs the reference engine (same schedules, same verdicts).
  SchedulerEngine engine = SchedulerEngine::kFibers;
  // ExploreAllInterleavings only: run just the schedules with at most this many preemptions
  // (ExhaustiveChooser's bound); unbounded by default.
  int max_preemptions = ExhaustiveChooser::kUnbounded;
};

struct ThreadOpOutcome {
  bool ran = false;
  std::string result;  // when ran
  std::vector<Misuse> misuse;
  // When ran and options.check_predicates: what the predicates read right after.
  PredicateReading reading;
};

struct InterleaveRun {
  std::string counter;  // the counter's canonical name
  Capabilities caps{};
  std::vector<std::vector<ThreadOpOutcome>> outcomes;  // [thread][op]
  std::vector<HistoryOp> history;                      // the operations that ran
  RunOutcome schedule;                                 // choices and step owners
  std::vector<AccessRecord> accesses;                  // when options.record_accesses
  RefcountState final_state;
  LinearizabilityVerdict verdict;
  std::vector<std::string> failures;  // empty: assertions held and the history linearizes
};

class InterleaveRunner {
 public:
  // InvalidArgument for an unknown counter or a `set` the counter cannot hold. The runner keeps
  // its own copy of the script (move one in to spare the copy).
  static absl::StatusOr<std::unique_ptr<InterleaveRunner>> Create(InterleaveScript script,
                                                                  std::string_view impl,
                                                                  InterleaveOptions options = {});

  // One run on a fresh counter, `chooser` deciding every step.
  InterleaveRun Run(Chooser& chooser);
  // The same into `run`, whose storage is reused: for the fuzz target's loop.
  void Run(Chooser& chooser, InterleaveRun& run);

  std::string_view counter_name() const { return counter_name_; }
  const InterleaveScript& script() const { return script_; }

 private:
  InterleaveRunner(InterleaveScript script, std::string impl, InterleaveOptions options)
      : script_(std::move(script)),
        impl_(std::move(impl)),
        options_(options),
        scheduler_(options.engine) {}

  // The body of logical thread t + 1: its operations, under the ownership rules.
  void RunThread(int t);

  InterleaveScript script_;
  std::string impl_;
  std::string counter_name_;
  std::unique_ptr<AnyRefcount> counter_;  // reset before every run
  InterleaveOptions options_;
  DeterministicScheduler scheduler_;

  // Works out start_ and dealt_ from the script (Create, once).
  void DealInitialHolders();
  // Racing misuse: judges the finished run (racing_misuse.h).
  void CheckMisuseRun(InterleaveRun& run, const RefcountState& final_state);
  bool racing_misuse_ = false;  // the script has `misuse` operations

  // The start state (one reference unless the script sets one) and what each thread holds of
  // it at the start (interleave_replay.cc deals it): fixed by the script.
  struct Start {
    std::uint32_t refs = 1, read = 0, write = 0;
    bool saturated = false;
  };
  struct Holders {
    std::uint32_t refs = 0, read = 0, write = 0;
  };
  Start start_;
  std::array<Holders, kMaxLogicalThreads> dealt_;

  // What a run needs beyond its InterleaveRun, kept across runs: once grown, a schedule
  // allocates nothing here.
  struct ThreadScratch {
    std::vector<std::pair<std::size_t, std::size_t>> windows;  // per op: accesses [first, end)
    std::vector<Misuse> misuse;      // reported during the thread's current operation
    std::vector<std::size_t> steps;  // the global steps the thread took, in order
    // Racing misuse: per op, whether its thread held none of what it drops (misuse ops), and
    // the thread's holdings at its end, all of them and those try_get/try_pin took.
    std::vector<bool> detectable;
    std::uint32_t refs = 0, read = 0, write = 0;
    std::uint32_t windowed_refs = 0, windowed_read = 0, windowed_write = 0;
    MisuseHoldings leaked;  // units the counter kept of this thread's correct drops it undid
  };
  struct HistorySlot {  // where a history entry goes: sorted, then filled in
    std::size_t first_step, last_step;
    int thread;    // 0-based
    int sequence;  // 2 * op index, + 1 for the reading after it
  };
  std::array<ThreadScratch, kMaxLogicalThreads> threads_;
  std::vector<std::function<void()>> bodies_;  // one per thread, naming only its index
  std::vector<HistorySlot> slots_;
  InterleaveRun* run_ = nullptr;  // the run in progress
};

// Runs the script once, following its own schedule (PreferenceChooser).
absl::StatusOr<InterleaveRun> ReplayInterleaveScript(const InterleaveScript& script,
                                                     std::string_view impl,
                                                     InterleaveOptions options = {});

struct ExploreSummary {
  std::size_t interleavings = 0;
  std::size_t violations = 0;
  std::optional<InterleaveRun> first_violation;
  // Which operations ran at least once (not skipped): bit per "kind": get, try_get, put,
  // pin read, pin write, unpin read, unpin write.
  unsigned kinds_ran = 0;
};
unsigned KindBit(const CounterOp& op);
inline constexpr unsigned kAllKindBits = 0x7f;

// Runs every schedule of the script (ExhaustiveChooser, options.max_preemptions), at most
// `max_runs`.
absl::StatusOr<ExploreSummary> ExploreAllInterleavings(const InterleaveScript& script,
                                                       std::string_view impl,
                                                       InterleaveOptions options = {},
                                                       std::size_t max_runs = SIZE_MAX);

// The human-readable account of a run: steps (when recorded), each operation with its result
// and step window, the final state and the verdict.
std::string FormatInterleaveRun(const InterleaveScript& script, const InterleaveRun& run);

}  // namespace pinsplit
