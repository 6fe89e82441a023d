// SPDX-License-Identifier: MIT
#include "interleave_replay.h"

#include <algorithm>
#include <array>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "deterministic_refcounts.h"
#include "pinsplit/misuse.h"
#include "pinsplit/refcount_replay.h"
#include "racing_misuse.h"
#include "refcount_predicates.h"

namespace pinsplit {
namespace {

constexpr std::uint32_t kMaxDealt = 4;  // initial holders dealt to one thread, per kind

// Where misuse reports of the current run go, per logical thread. One run at a time.
std::array<std::vector<Misuse>*, kMaxLogicalThreads + 1>* misuse_sink = nullptr;

void RecordMisuse(const MisuseReport& report) {
  const int thread = DeterministicScheduler::CurrentThread();
  if (misuse_sink != nullptr && thread != 0) (*misuse_sink)[thread]->push_back(report.kind);
}

struct Holdings {
  std::uint32_t refs = 0;
  std::uint32_t read = 0;
  std::uint32_t write = 0;
  std::uint32_t& pins(PinKind k) { return k == PinKind::kRead ? read : write; }
};

// Deals `total` holders round-robin to `threads` threads, at most kMaxDealt each, starting at
// thread `offset` (kinds are dealt one after the other, continuing the round).
std::uint32_t Dealt(std::uint32_t total, int threads, int thread_index, std::uint32_t offset) {
  const std::uint32_t n = static_cast<std::uint32_t>(threads);
  const std::uint32_t dealt = std::min<std::uint64_t>(total, std::uint64_t{kMaxDealt} * n);
  const std::uint32_t t = (static_cast<std::uint32_t>(thread_index) + n - offset % n) % n;
  return dealt / n + (t < dealt % n ? 1 : 0);
}

// True when the ownership rules let a thread with `h` run `op`.
bool MayRun(const CounterOp& op, const Holdings& h) {
  switch (op.kind) {
    case CounterOpKind::kGet:
      return h.refs + h.read + h.write > 0;
    case CounterOpKind::kPut:
      return h.refs > 0;
    case CounterOpKind::kUnpin:
      return (op.pin == PinKind::kRead ? h.read : h.write) > 0;
    default:
      return true;
  }
}

// Runs `op` and keeps the thread's holdings in step with what it took or dropped.
std::string RunOnCounter(AnyRefcount& counter, const CounterOp& op, Holdings& h) {
  std::string got = ApplyCounterOp(counter, op).value_or("?");
  switch (op.kind) {
    case CounterOpKind::kGet:
    case CounterOpKind::kTryGet:
      h.refs += got == "ok";
      break;
    case CounterOpKind::kPut:
      --h.refs;
      break;
    case CounterOpKind::kPin:
      h.pins(op.pin) += got == "pinned";
      break;
    case CounterOpKind::kUnpin:
      --h.pins(op.pin);
      break;
    case CounterOpKind::kSet:
    case CounterOpKind::kExpect:
      break;
  }
  return got;
}

// Racing misuse: keeps a thread's holdings in step with what `op` answered. A misused drop the
// counter undid (it reported misuse) changes nothing; a misused get the counter could not see
// is the thread's reference. A correct drop is gone from its caller whatever the counter says;
// when the counter undid it (a holder from a resurrection window dropping on the dead word) the
// unit it keeps is `leaked`.
// `windowed` counts what try_get, pin and a misused get took (the resurrection window).
void FollowAnswer(const CounterOp& op, bool misuse, const std::string& got,
                  const std::vector<Misuse>& reports, Holdings& h, Holdings& windowed,
                  Holdings& leaked) {
  const bool undone = std::any_of(reports.begin(), reports.end(), [](Misuse m) {
    return m == Misuse::kPutOnDead || m == Misuse::kUnpinUnderflow || m == Misuse::kUnpinOnDead ||
           m == Misuse::kGetOnDead;
  });
  switch (op.kind) {
    case CounterOpKind::kGet:
      h.refs += got == "ok" && !undone;
      // A misused get promises its caller nothing: like a resurrection, it may end up holding
      // a dead word (one that a window made look alive). So may a get on a resurrected hold.
      windowed.refs +=
          (misuse || windowed.refs + windowed.read + windowed.write > 0) && got == "ok" && !undone;
      break;
    case CounterOpKind::kTryGet:
      h.refs += got == "ok";
      windowed.refs += got == "ok";
      break;
    case CounterOpKind::kPut:
      // A misused put-underflow saturates: the unit is leaked, and the thread held none.
      if (!misuse || (!undone && h.refs > 0)) --h.refs;
      if (!misuse && undone) ++leaked.refs;
      break;
    case CounterOpKind::kPin:
      h.pins(op.pin) += got == "pinned";
      windowed.pins(op.pin) += got == "pinned";
      break;
    case CounterOpKind::kUnpin:
      if (!misuse || (!undone && h.pins(op.pin) > 0)) --h.pins(op.pin);
      if (!misuse && undone) ++leaked.pins(op.pin);
      break;
    case CounterOpKind::kSet:
    case CounterOpKind::kExpect:
      break;
  }
}

}  // namespace

unsigned KindBit(const CounterOp& op) {
  switch (op.kind) {
    case CounterOpKind::kGet:
      return 1u << 0;
    case CounterOpKind::kTryGet:
      return 1u << 1;
    case CounterOpKind::kPut:
      return 1u << 2;
    case CounterOpKind::kPin:
      return op.pin == PinKind::kRead ? 1u << 3 : 1u << 4;
    case CounterOpKind::kUnpin:
      return op.pin == PinKind::kRead ? 1u << 5 : 1u << 6;
    default:
      return 0;
  }
}

absl::StatusOr<std::unique_ptr<InterleaveRunner>> InterleaveRunner::Create(
    InterleaveScript script, std::string_view impl, InterleaveOptions options) {
  if (script.threads.empty() || script.threads.size() > kMaxLogicalThreads) {
    return absl::InvalidArgumentError("an interleave script runs 1 to 4 threads");
  }
  std::size_t operations = 0;
  for (const auto& ops : script.threads) operations += ops.size();
  if (operations > kMaxInterleaveScriptOps) {
    return absl::InvalidArgumentError(absl::StrCat("the script's threads run ", operations,
                                                   " operations; the linearizability checker "
                                                   "handles at most ",
                                                   kMaxInterleaveScriptOps,
                                                   " (a limit of the checker, not a verdict)"));
  }
  absl::StatusOr<std::unique_ptr<AnyRefcount>> probe = MakeDeterministicRefcount(impl);
  if (!probe.ok()) return probe.status();
  if (script.initial) {
    const StateSpec& s = script.initial->spec;
    if (!(*probe)->reset(s.refs.value_or(0), s.read.value_or(0), s.write.value_or(0),
                         s.saturated.value_or(false))) {
      const RefcountLimits limits = (*probe)->limits();
      return absl::InvalidArgumentError(absl::StrFormat(
          "line %d: %s cannot hold '%s' (max refs %u, read %u, write %u%s)", script.initial->line,
          (*probe)->name(), Format(s), limits.max_refs, limits.max_read_pins, limits.max_write_pins,
          (*probe)->capabilities().saturates ? "" : ", never saturated"));
    }
  }
  // A counter that neither saturates nor refuses (plain) wraps past 2^32-1 holders, a misuse
  // with nothing to contain it: such a start is outside the contract, not a question to judge.
  const Capabilities caps = (*probe)->capabilities();
  if (!caps.saturates && !caps.refuses_overflow) {
    std::uint64_t holders = 1;
    if (script.initial) {
      const StateSpec& s = script.initial->spec;
      holders = std::uint64_t{s.refs.value_or(0)} + s.read.value_or(0) + s.write.value_or(0);
    }
    for (const auto& ops : script.threads) {
      for (const CounterOp& op : ops) {
        holders += op.kind == CounterOpKind::kGet || op.kind == CounterOpKind::kTryGet ||
                   op.kind == CounterOpKind::kPin;
      }
    }
    if (holders > UINT32_MAX) {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string((*probe)->name()), " would wrap past 2^32-1 holders: outside its contract"));
    }
  }
  std::unique_ptr<InterleaveRunner> runner(
      new InterleaveRunner(std::move(script), std::string(impl), options));
  runner->counter_name_ = std::string((*probe)->name());
  runner->counter_ = *std::move(probe);
  runner->scheduler_.record_accesses(options.record_accesses);
  runner->DealInitialHolders();
  if (runner->script_.misuse_thread() >= 0) {
    std::vector<MisuseHoldings> dealt;
    for (std::size_t t = 0; t < runner->script_.threads.size(); ++t) {
      dealt.push_back({runner->dealt_[t].refs, runner->dealt_[t].read, runner->dealt_[t].write});
    }
    const std::string refusal = RacingMisuseRefusal(runner->script_, caps, dealt);
    if (!refusal.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(runner->counter_name_, ": ", refusal));
    }
    runner->racing_misuse_ = true;
    runner->options_.check_predicates = false;  // the repair windows make readings racy
  }
  return runner;
}

InterleaveRun InterleaveRunner::Run(Chooser& chooser) {
  InterleaveRun run;
  Run(chooser, run);
  return run;
}

void InterleaveRunner::DealInitialHolders() {
  if (script_.initial) {
    const StateSpec& s = script_.initial->spec;
    start_ = {s.refs.value_or(0), s.read.value_or(0), s.write.value_or(0),
              s.saturated.value_or(false)};
  }
  // One round: references, then read pins, then write pins, at most kMaxDealt of a kind each,
  // to every thread but the misuser (racing misuse), which starts with nothing.
  const int misuser = script_.misuse_thread();
  const int all = static_cast<int>(script_.threads.size());
  const int n = all - (misuser >= 0 ? 1 : 0);
  const std::uint64_t most = std::uint64_t{kMaxDealt} * n;
  const std::uint32_t after_refs =
      std::min<std::uint64_t>(start_.saturated ? 0 : start_.refs, most);
  const std::uint32_t after_read =
      static_cast<std::uint32_t>(after_refs + std::min<std::uint64_t>(start_.read, most));
  for (int t = 0, k = 0; t < all; ++t) {
    if (t == misuser) {
      dealt_[t] = {};
      continue;
    }
    dealt_[t] = {start_.saturated ? kMaxDealt : Dealt(start_.refs, n, k, 0),
                 Dealt(start_.read, n, k, after_refs), Dealt(start_.write, n, k, after_read)};
    ++k;
  }
}

void InterleaveRunner::RunThread(int t) {
  const std::vector<CounterOp>& ops = script_.threads[t];
  ThreadScratch& mine = threads_[t];
  Holdings h{dealt_[t].refs, dealt_[t].read, dealt_[t].write};
  Holdings windowed, leaked;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const CounterOp& op = ops[i];
    const bool misuse = racing_misuse_ && script_.is_misuse(t, i);
    if (!misuse && !MayRun(op, h)) continue;
    ThreadOpOutcome& out = run_->outcomes[t][i];
    mine.misuse.clear();
    const std::size_t first = DeterministicScheduler::AccessesByCurrentThread();
    if (racing_misuse_) {
      mine.detectable[i] = misuse && !MayRun(op, h);
      out.result = ApplyCounterOp(*counter_, op).value_or("?");
      FollowAnswer(op, misuse, out.result, mine.misuse, h, windowed, leaked);
    } else {
      out.result = RunOnCounter(*counter_, op, h);
    }
    mine.windows[i] = {first, DeterministicScheduler::AccessesByCurrentThread()};
    if (options_.check_predicates) {
      DeterministicScheduler::Unscheduled at_the_same_step;
      out.reading = ReadPredicates(*counter_);
    }
    out.ran = true;
    out.misuse = mine.misuse;
  }
  mine.refs = h.refs;
  mine.read = h.read;
  mine.write = h.write;
  mine.windowed_refs = windowed.refs;
  mine.windowed_read = windowed.read;
  mine.windowed_write = windowed.write;
  mine.leaked = {leaked.refs, leaked.read, leaked.write};
}

void InterleaveRunner::Run(Chooser& chooser, InterleaveRun& run) {
  // One counter serves every run: reset to the start state (checked in Create) each time.
  AnyRefcount* const counter = counter_.get();
  RefcountModel model = ModelFor(*counter);
  if (script_.initial) model.reset(start_.refs, start_.read, start_.write, start_.saturated);
  counter->reset(start_.refs, start_.read, start_.write, start_.saturated);
  const int n = static_cast<int>(script_.threads.size());

  run.counter = counter_name_;
  run.caps = counter->capabilities();
  run.outcomes.resize(n);
  run.failures.clear();
  for (int t = 0; t < n; ++t) {
    run.outcomes[t].assign(script_.threads[t].size(), ThreadOpOutcome{});
    threads_[t].windows.assign(script_.threads[t].size(), {0, 0});
    if (racing_misuse_) threads_[t].detectable.assign(script_.threads[t].size(), false);
  }
  // The bodies only name their thread (no allocation inside std::function); the run in
  // progress is run_.
  if (bodies_.empty()) {
    for (int t = 0; t < n; ++t) bodies_.push_back([this, t] { RunThread(t); });
  }
  run_ = &run;
  std::array<std::vector<Misuse>*, kMaxLogicalThreads + 1> sinks{};
  for (int t = 0; t < n; ++t) sinks[t + 1] = &threads_[t].misuse;
  misuse_sink = &sinks;
  const MisuseHook previous = set_misuse_hook(&RecordMisuse);
  scheduler_.Run(bodies_, chooser, run.schedule);
  set_misuse_hook(previous);
  misuse_sink = nullptr;
  run_ = nullptr;
  run.accesses = scheduler_.accesses();
  run.final_state = counter->state();

  // Map each op's per-thread access window onto global steps.
  for (int t = 0; t < n; ++t) threads_[t].steps.clear();
  for (std::size_t step = 0; step < run.schedule.step_threads.size(); ++step) {
    threads_[run.schedule.step_threads[step] - 1].steps.push_back(step);
  }
  // The history in step order (ties: thread, then program order). The entries are large: their
  // places are sorted first, then each is written in place into the run's storage.
  slots_.clear();
  for (int t = 0; t < n; ++t) {
    const std::vector<std::size_t>& mine = threads_[t].steps;
    for (std::size_t i = 0; i < script_.threads[t].size(); ++i) {
      const ThreadOpOutcome& out = run.outcomes[t][i];
      const CounterOp& op = script_.threads[t][i];
      if (out.ran) {
        const auto [first, end] = threads_[t].windows[i];
        const std::size_t first_step =
            first < mine.size() ? mine[first] : run.schedule.step_threads.size();
        const std::size_t last_step =
            end > first && end - 1 < mine.size() ? mine[end - 1] : first_step;
        const int sequence = static_cast<int>(2 * i);
        slots_.push_back({first_step, last_step, t, sequence});
        // The reading right after the operation: at its last step, next in program order.
        if (options_.check_predicates) slots_.push_back({last_step, last_step, t, sequence + 1});
      }
      if (op.result && (!out.ran || *op.result != out.result)) {
        run.failures.push_back(absl::StrFormat("line %d: thread %d %s: expected %s, got %s",
                                               op.line, t + 1, Format(op), *op.result,
                                               out.ran ? out.result : "skipped"));
      }
    }
  }
  std::sort(slots_.begin(), slots_.end(), [](const HistorySlot& a, const HistorySlot& b) {
    return std::tie(a.first_step, a.thread, a.sequence) <
           std::tie(b.first_step, b.thread, b.sequence);
  });
  run.history.resize(slots_.size());
  for (std::size_t k = 0; k < slots_.size(); ++k) {
    const HistorySlot& slot = slots_[k];
    const std::size_t i = static_cast<std::size_t>(slot.sequence / 2);
    const ThreadOpOutcome& out = run.outcomes[slot.thread][i];
    HistoryOp& h = run.history[k];
    h.thread = slot.thread + 1;
    h.index = static_cast<int>(i);
    h.op = script_.threads[slot.thread][i];
    h.op.result.reset();
    h.first_step = slot.first_step;
    h.last_step = slot.last_step;
    h.sequence = slot.sequence;
    h.probe = slot.sequence % 2 == 1;
    if (h.probe) {
      h.result.clear();  // the reading is the result (FormatHistoryOp shows it)
      h.misuse.clear();
      h.reading = out.reading;
    } else {
      h.result = out.result;
      h.misuse = out.misuse;
      h.reading = PredicateReading{};
    }
  }

  if (!script_.expects.empty()) {
    CounterScript expects{script_.expects};
    absl::StatusOr<ReplayResult> checked = ReplayCounterScript(expects, *counter);
    if (checked.ok()) {
      for (const std::string& f : checked->failures) run.failures.push_back(f);
    }
  }
  if (racing_misuse_) {
    CheckMisuseRun(run, run.final_state);
    return;
  }
  run.verdict = CheckLinearizable(run.history, model, run.final_state, options_.check_misuse);
  if (!run.verdict.linearizable) {
    run.failures.push_back(absl::StrCat("not linearizable: ", run.verdict.why));
  }
}

void InterleaveRunner::CheckMisuseRun(InterleaveRun& run, const RefcountState& final_state) {
  run.verdict = LinearizabilityVerdict{};
  run.verdict.why = "not checked: racing misuse is judged by its promises (racing_misuse.h)";
  MisuseRunFacts facts;
  facts.start_saturated = start_.saturated;
  facts.final_state = final_state;
  const int n = static_cast<int>(script_.threads.size());
  facts.undealt = {start_.saturated ? 0 : start_.refs, start_.read, start_.write};
  for (int t = 0; t < n; ++t) {
    if (!start_.saturated) facts.undealt.refs -= dealt_[t].refs;
    facts.undealt.read -= dealt_[t].read;
    facts.undealt.write -= dealt_[t].write;
  }
  for (int t = 0; t < n; ++t) {
    const ThreadScratch& mine = threads_[t];
    facts.holdings.push_back({mine.refs, mine.read, mine.write});
    facts.windowed.push_back({mine.windowed_refs, mine.windowed_read, mine.windowed_write});
    facts.leaked.refs += mine.leaked.refs;
    facts.leaked.read += mine.leaked.read;
    facts.leaked.write += mine.leaked.write;
    for (std::size_t i = 0; i < script_.threads[t].size(); ++i) {
      const ThreadOpOutcome& out = run.outcomes[t][i];
      if (!out.ran) continue;
      facts.ops.push_back({t + 1, static_cast<int>(i), script_.threads[t][i],
                           script_.is_misuse(t, i), mine.detectable[i], out.result, out.misuse});
    }
  }
  for (const std::string& broken : CheckRacingMisuse(script_, facts)) {
    run.failures.push_back(absl::StrCat("racing misuse: ", broken));
  }
}

absl::StatusOr<InterleaveRun> ReplayInterleaveScript(const InterleaveScript& script,
                                                     std::string_view impl,
                                                     InterleaveOptions options) {
  absl::StatusOr<std::unique_ptr<InterleaveRunner>> runner =
      InterleaveRunner::Create(script, impl, options);
  if (!runner.ok()) return runner.status();
  PreferenceChooser chooser(script.schedule);
  return (*runner)->Run(chooser);
}

absl::StatusOr<ExploreSummary> ExploreAllInterleavings(const InterleaveScript& script,
                                                       std::string_view impl,
                                                       InterleaveOptions options,
                                                       std::size_t max_runs) {
  absl::StatusOr<std::unique_ptr<InterleaveRunner>> runner =
      InterleaveRunner::Create(script, impl, options);
  if (!runner.ok()) return runner.status();
  ExploreSummary summary;
  ExhaustiveChooser chooser(options.max_preemptions);
  InterleaveRun run;  // its storage serves every schedule
  do {
    (*runner)->Run(chooser, run);
    ++summary.interleavings;
    for (const HistoryOp& h : run.history) {
      if (!h.probe) summary.kinds_ran |= KindBit(h.op);
    }
    if (!run.failures.empty()) {
      ++summary.violations;
      if (!summary.first_violation) summary.first_violation = run;
    }
  } while (summary.interleavings < max_runs && chooser.Advance());
  return summary;
}

std::string FormatInterleaveRun(const InterleaveScript& script, const InterleaveRun& run) {
  std::string out;
  // Which op each step belongs to, for the step table.
  std::vector<std::string> step_op(run.schedule.step_threads.size());
  for (const HistoryOp& h : run.history) {
    for (std::size_t s = h.first_step; s <= h.last_step && s < step_op.size(); ++s) {
      if (run.schedule.step_threads[s] == h.thread) {
        CounterOp shown = h.op;
        step_op[s] = absl::StrCat("T", h.thread, "#", h.index + 1, " ", Format(shown));
      }
    }
  }
  if (!run.accesses.empty()) {
    absl::StrAppend(&out, "  step  thread  access                   word before -> after\n");
    for (std::size_t s = 0; s < run.accesses.size(); ++s) {
      const AccessRecord& a = run.accesses[s];
      absl::StrAppendFormat(&out, "  %4d  T%-5d  %-23s  0x%08x -> 0x%08x   %s\n", s + 1, a.thread,
                            a.what, a.before, a.after, step_op[s]);
    }
  }
  absl::StrAppend(&out, "  operations:\n");
  for (std::size_t t = 0; t < script.threads.size(); ++t) {
    for (std::size_t i = 0; i < script.threads[t].size(); ++i) {
      const ThreadOpOutcome& o = run.outcomes[t][i];
      CounterOp shown = script.threads[t][i];
      shown.result.reset();
      if (!o.ran) {
        absl::StrAppendFormat(&out,
                              "    T%d#%d %-22s skipped (the thread holds nothing it may "
                              "drop or share)\n",
                              t + 1, i + 1, Format(shown));
        continue;
      }
      for (const HistoryOp& h : run.history) {
        if (h.thread == static_cast<int>(t) + 1 && h.index == static_cast<int>(i)) {
          absl::StrAppend(&out, "    ", FormatHistoryOp(h), "\n");
        }
      }
    }
  }
  absl::StrAppend(&out, "  schedule taken:", run.schedule.choices.empty() ? " (no decisions)" : "",
                  run.schedule.choices.empty() ? "" : " ", absl::StrJoin(run.schedule.choices, " "),
                  "\n");
  absl::StrAppend(&out, "  final: ", FormatState(run.final_state, run.caps), "\n");
  if (run.verdict.linearizable) {
    std::vector<std::string> order;
    for (std::size_t i : run.verdict.order) {
      const HistoryOp& h = run.history[i];
      order.push_back(absl::StrCat("T", h.thread, "#", h.index + 1, h.probe ? "'" : ""));
    }
    absl::StrAppend(&out, "  linearizable, e.g. in the order ",
                    order.empty() ? "(no operations)" : absl::StrJoin(order, " "), "\n");
  }
  for (const std::string& f : run.failures) absl::StrAppend(&out, "  FAIL: ", f, "\n");
  return out;
}

}  // namespace pinsplit
