// SPDX-License-Identifier: MIT
#include "mm_interleave.h"

#include <algorithm>
#include <functional>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace pinsplit {
namespace {

using mm::Addr;
using mm::PinId;
using mm::ProcessId;

constexpr int kSetupAddresses = 2;

template <class Sync>
class Runner final : public MmInterleaveRunner {
 public:
  using Model = mm::BasicMmModel<Sync>;
  using Oracle = mm::BasicTruthOracle<Model>;

  Runner(std::unique_ptr<Model> model) : model_(std::move(model)), oracle_(*model_) {}

  void set_event_log(std::vector<std::string>* log) override { model_->set_event_log(log); }

  MmRunVerdict Run(const MmInterleaveProgram& program, Chooser& chooser) override {
    verdict_ = MmRunVerdict{};
    model_->reset();
    oracle_.reset();
    log_.clear();
    clock_ = 0;
    processes_.clear();
    told_generation_.clear();
    unplaced_pins_.clear();
    pins_.clear();
    in_flight_ = 0;
    operations_started_ = 0;
    refs_.clear();
    fast_pins_ = 0;
    next_value_ = 1;
    Setup(program);
    if (verdict_.violations.empty()) {
      std::vector<std::function<void()>> bodies;
      for (std::size_t t = 0; t < program.threads.size(); ++t) {
        bodies.push_back([this, &program, t] {
          for (const MmThreadOp& op : program.threads[t]) Perform(op, static_cast<int>(t));
        });
      }
      RunOutcome outcome = scheduler_.Run(bodies, chooser);
      verdict_.choices = std::move(outcome.choices);
      verdict_.steps = static_cast<int>(outcome.step_threads.size());
    }
    if (!unplaced_pins_.empty()) {
      Violate("runner: a pin landed in a process whose fork never returned");
    }
    if (verdict_.violations.empty()) Epilogue();
    verdict_.fast_pins = fast_pins_;
    return std::move(verdict_);
  }

 private:
  struct LivePin {
    PinId id;
    int thread;
    PinKind kind;
  };

  // What the oracle has been told, in the order it holds it. Every notification but a pin's
  // advances the clock and goes last; a pin goes right after what had completed when its call
  // started (`at`: the clock then), after pins placed there before it. A notification placed
  // before the end rebuilds the oracle from the log.
  struct Entry {
    std::uint64_t clock;
    bool pin;
    std::function<void(Oracle&)> apply;
    std::optional<PinId> unpinned;  // the handle an unpin released (ids are reused)
  };
  void Notify(std::function<void(Oracle&)> f, std::optional<PinId> unpinned = std::nullopt) {
    f(oracle_);
    log_.push_back({++clock_, false, std::move(f), unpinned});
  }
  // A pin is never placed before the unpin that freed its handle id.
  void NotifyPin(std::function<void(Oracle&)> f, std::uint64_t at, PinId id) {
    auto pos = std::find_if(log_.begin(), log_.end(),
                            [at](const Entry& e) { return e.clock > at && !e.pin; });
    for (auto it = pos; it != log_.end(); ++it) {
      if (it->unpinned == id) pos = std::next(it);
    }
    if (pos == log_.end()) {
      f(oracle_);
      log_.push_back({at, true, std::move(f), std::nullopt});
      return;
    }
    log_.insert(pos, {at, true, std::move(f), std::nullopt});
    oracle_.reset();
    for (const Entry& e : log_) e.apply(oracle_);
  }

  std::uint64_t NewValue() { return 0x1000 + next_value_++; }

  void Violate(std::string text) { verdict_.violations.push_back(std::move(text)); }
  void Report(const std::vector<mm::Violation>& found, const std::string& when) {
    for (const mm::Violation& v : found) {
      Violate(absl::StrCat(v.invariant, ": ", v.detail, " (", when, ")"));
    }
  }
  void Report(const std::optional<mm::Violation>& found, const std::string& when) {
    if (found) Report(std::vector<mm::Violation>{*found}, when);
  }
  void Check(const std::string& when) { Report(oracle_.check_state(), when); }
  void Expect(const absl::Status& s, const std::string& what) {
    if (!s.ok() && !absl::IsFailedPrecondition(s)) {
      Violate(absl::StrCat("model error: ", what, ": ", s.ToString()));
    }
  }

  void Setup(const MmInterleaveProgram& program) {
    absl::StatusOr<ProcessId> p = model_->spawn();
    if (!p.ok()) return Violate(absl::StrCat("set-up: ", p.status().ToString()));
    Notify([p = *p](Oracle& o) { o.on_spawn(p); });
    Told(*p);
    processes_.push_back(*p);
    if (absl::Status s = model_->map(*p, 0, kSetupAddresses - 1); !s.ok()) {
      return Violate(absl::StrCat("set-up: ", s.ToString()));
    }
    Notify([p = *p](Oracle& o) { o.on_map(p, 0, kSetupAddresses - 1); });
    for (Addr a = 0; a < kSetupAddresses; ++a) {
      const std::uint64_t v = NewValue();
      if (absl::Status s = model_->write(*p, a, v); !s.ok()) {
        return Violate(absl::StrCat("set-up: ", s.ToString()));
      }
      Notify([p = *p, a, v](Oracle& o) { o.on_write(p, a, v); });
    }
    if (program.prefork) {
      absl::StatusOr<ProcessId> c = model_->fork(*p);
      if (!c.ok()) return Violate(absl::StrCat("set-up: ", c.status().ToString()));
      Notify([p = *p, c = *c](Oracle& o) { o.on_fork(p, c); });
      Told(*c);
      processes_.push_back(*c);
    }
    Check("after set-up");
  }

  // One operation of logical thread `thread`; the model call is scheduled, the bookkeeping and
  // the oracle are not.
  void Perform(const MmThreadOp& op, int thread) {
    if (op.process < 0 || op.process >= static_cast<int>(processes_.size())) return;
    const ProcessId p = processes_[op.process];
    // Alone: no other operation in flight now, and none starts before this one ends.
    const bool none_in_flight = in_flight_ == 0;
    const std::uint64_t started = ++operations_started_;
    ++in_flight_;
    const std::uint64_t start = clock_;
    // Which incarnation of slot p the call starts on, and whether the oracle knows it yet (a
    // fork that reused the slot may have finished in the model and not returned).
    std::uint32_t generation;
    {
      DeterministicScheduler::Unscheduled quiet;
      generation = model_->process_generation(p);
    }
    const bool told_at_start = told_generation_[p] == generation;
    std::string what = absl::StrCat("T", thread + 1, " ", DescribeOp(op));
    const auto alone_so_far = [&] { return none_in_flight && operations_started_ == started; };
    switch (op.kind) {
      case MmThreadOpKind::kPinRead:
      case MmThreadOpKind::kPinWrite:
      case MmThreadOpKind::kPinSlowRead:
      case MmThreadOpKind::kPinSlowWrite:
      case MmThreadOpKind::kPinShortRead:
      case MmThreadOpKind::kPinShortWrite: {
        const PinKind kind = op.kind == MmThreadOpKind::kPinRead ||
                                     op.kind == MmThreadOpKind::kPinSlowRead ||
                                     op.kind == MmThreadOpKind::kPinShortRead
                                 ? PinKind::kRead
                                 : PinKind::kWrite;
        const bool longterm =
            op.kind != MmThreadOpKind::kPinShortRead && op.kind != MmThreadOpKind::kPinShortWrite;
        const bool fast =
            op.kind != MmThreadOpKind::kPinSlowRead && op.kind != MmThreadOpKind::kPinSlowWrite;
        absl::StatusOr<mm::PinOutcome> out = model_->pin(p, op.addr, kind, longterm, fast);
        DeterministicScheduler::Unscheduled quiet;
        if (!out.ok()) {
          Expect(out.status(), what);
        } else if (out->result == PinResult::kPinned) {
          // A pin takes effect somewhere inside its call (GUP-fast: when its recheck passed);
          // the truth places it at the call's start, before whatever completed meanwhile (an
          // unmap, a write, its process's exit): the values it may show are those its owner
          // held from then on. Unless it landed in an incarnation of the slot the oracle did
          // not know at the call's start (the process exited and a fork reused the slot; the
          // model says which by its generation): then it is the new occupant's, placed at the
          // call's return, or, when that fork has not returned yet, right after it is told.
          auto f = [id = out->id, p, addr = op.addr, kind, longterm](Oracle& o) {
            o.on_pin(id, p, addr, kind, longterm);
          };
          if (out->generation == generation && told_at_start) {
            NotifyPin(std::move(f), start, out->id);
          } else if (told_generation_[p] == out->generation) {
            Notify(std::move(f));
          } else {
            unplaced_pins_.push_back({p, out->generation, std::move(f)});
          }
          pins_.push_back({out->id, thread, kind});
          fast_pins_ += out->fast;
        }
        break;
      }
      case MmThreadOpKind::kFork: {
        absl::StatusOr<ProcessId> child = model_->fork(p);
        DeterministicScheduler::Unscheduled quiet;
        if (!child.ok()) {
          Expect(child.status(), what);
        } else {
          Notify([p, c = *child](Oracle& o) { o.on_fork(p, c); });
          Told(*child);
          processes_.push_back(*child);
        }
        break;
      }
      case MmThreadOpKind::kUnmap: {
        absl::Status s = model_->unmap(p, op.addr);
        DeterministicScheduler::Unscheduled quiet;
        if (s.ok()) Notify([p, a = op.addr](Oracle& o) { o.on_unmap(p, a); });
        Expect(s, what);
        break;
      }
      case MmThreadOpKind::kWrite: {
        std::uint64_t v;
        {
          DeterministicScheduler::Unscheduled quiet;
          v = NewValue();
        }
        absl::Status s = model_->write(p, op.addr, v);
        DeterministicScheduler::Unscheduled quiet;
        if (s.ok()) Notify([p, a = op.addr, v](Oracle& o) { o.on_write(p, a, v); });
        Expect(s, what);
        break;
      }
      case MmThreadOpKind::kUnpin: {
        std::optional<PinId> id;
        {
          DeterministicScheduler::Unscheduled quiet;
          for (auto it = pins_.rbegin(); it != pins_.rend(); ++it) {
            if (it->thread == thread) {
              id = it->id;
              pins_.erase(std::next(it).base());
              break;
            }
          }
          // Told at the call's start: the model frees the handle before its last access, so
          // a pin that starts meanwhile may reuse the id before this call returns.
          if (id) Notify([id = *id](Oracle& o) { o.on_unpin(id); }, *id);
        }
        if (!id) break;
        absl::Status s = model_->unpin(*id);
        DeterministicScheduler::Unscheduled quiet;
        if (!s.ok()) Violate(absl::StrCat("model error: ", what, ": ", s.ToString()));
        break;
      }
      case MmThreadOpKind::kExit: {
        absl::Status s = model_->exit(p);
        DeterministicScheduler::Unscheduled quiet;
        if (s.ok()) Notify([p](Oracle& o) { o.on_exit(p); });
        Expect(s, what);
        break;
      }
      case MmThreadOpKind::kProtectRo:
      case MmThreadOpKind::kProtectRw: {
        const bool writable = op.kind == MmThreadOpKind::kProtectRw;
        absl::Status s = model_->protect(p, op.addr, writable);
        DeterministicScheduler::Unscheduled quiet;
        if (s.ok()) {
          Notify([p, a = op.addr, writable](Oracle& o) { o.on_protect(p, a, writable); });
        }
        Expect(s, what);
        break;
      }
      case MmThreadOpKind::kRef: {
        absl::StatusOr<mm::RefId> ref = model_->take_ref(p, op.addr);
        DeterministicScheduler::Unscheduled quiet;
        if (ref.ok()) {
          Notify([](Oracle& o) { o.on_take_ref(); });
          refs_.push_back({*ref, thread});
        } else {
          Expect(ref.status(), what);
        }
        break;
      }
      case MmThreadOpKind::kDrop: {
        std::optional<mm::RefId> id;
        {
          DeterministicScheduler::Unscheduled quiet;
          for (auto it = refs_.rbegin(); it != refs_.rend(); ++it) {
            if (it->second == thread) {
              id = it->first;
              refs_.erase(std::next(it).base());
              break;
            }
          }
          // Told at the call's start, as an unpin is: the count the truth keeps only grows
          // back when a later take_ref returns.
          if (id) Notify([](Oracle& o) { o.on_drop_ref(); });
        }
        if (!id) break;
        absl::Status s = model_->drop_ref(*id);
        DeterministicScheduler::Unscheduled quiet;
        if (!s.ok()) Violate(absl::StrCat("model error: ", what, ": ", s.ToString()));
        break;
      }
      case MmThreadOpKind::kRead: {
        absl::StatusOr<std::uint64_t> got = model_->read(p, op.addr);
        DeterministicScheduler::Unscheduled quiet;
        // The truth learns stores at their return: a load that overlapped another operation
        // may see one it has not learnt yet, so only a load alone in its window is judged.
        if (got.ok() && alone_so_far()) Report(oracle_.check_read(p, op.addr, *got), what);
        if (!got.ok()) Expect(got.status(), what);
        break;
      }
      case MmThreadOpKind::kReadPin: {
        std::optional<PinId> id;
        {
          DeterministicScheduler::Unscheduled quiet;
          for (auto it = pins_.rbegin(); it != pins_.rend(); ++it) {
            if (it->thread == thread) {
              id = it->id;
              break;
            }
          }
        }
        if (!id) break;
        absl::StatusOr<std::uint64_t> got = model_->read_pin(*id);
        DeterministicScheduler::Unscheduled quiet;
        if (got.ok() && alone_so_far()) Report(oracle_.check_pin_read(*id, *got), what);
        if (!got.ok()) Violate(absl::StrCat("model error: ", what, ": ", got.status().ToString()));
        break;
      }
    }
    DeterministicScheduler::Unscheduled quiet;
    if (--in_flight_ == 0) Check(absl::StrCat("after ", what));
  }

  // Sequential: makes a pin that slipped into a fork (or a stale page) observable.
  void Epilogue() {
    for (std::size_t i = 0; i < processes_.size(); ++i) {
      const ProcessId p = processes_[i];
      if (!model_->process_alive(p)) continue;
      for (Addr a = 0; a < kSetupAddresses; ++a) {
        if (model_->page_at(p, a) == mm::kNoPage) continue;
        const std::uint64_t v = NewValue();
        const std::string when = absl::StrCat("epilogue: process ", i, " writes ", a);
        absl::Status s = model_->write(p, a, v);
        if (s.ok()) oracle_.on_write(p, a, v);
        Expect(s, when);
        Check(when);
      }
    }
    for (const LivePin& pin : pins_) {
      const std::string when = absl::StrCat("epilogue: through pin ", pin.id);
      absl::StatusOr<std::uint64_t> got = model_->read_pin(pin.id);
      if (got.ok()) Report(oracle_.check_pin_read(pin.id, *got), when);
      if (pin.kind == PinKind::kWrite) {
        const std::uint64_t v = NewValue();
        absl::Status s = model_->write_pin(pin.id, v);
        if (s.ok()) oracle_.on_write_pin(pin.id, v);
        Expect(s, when);
      }
      Check(when);
    }
    for (std::size_t i = 0; i < processes_.size(); ++i) {
      const ProcessId p = processes_[i];
      if (!model_->process_alive(p)) continue;
      for (Addr a = 0; a < kSetupAddresses; ++a) {
        absl::StatusOr<std::uint64_t> got = model_->read(p, a);
        if (got.ok()) {
          Report(oracle_.check_read(p, a, *got),
                 absl::StrCat("epilogue: process ", i, " reads ", a));
        }
      }
    }
    for (const LivePin& pin : pins_) {
      if (model_->unpin(pin.id).ok()) oracle_.on_unpin(pin.id);
    }
    for (const auto& [ref, thread] : refs_) {
      if (model_->drop_ref(ref).ok()) oracle_.on_drop_ref();
    }
    for (ProcessId p : processes_) {
      if (model_->process_alive(p) && model_->exit(p).ok()) oracle_.on_exit(p);
    }
    std::vector<mm::PageId> saturated;
    Report(oracle_.check_quiescent(&saturated), "at the end");
  }

  // Records that the oracle now knows the incarnation of slot p the model holds, and places
  // the pins that landed in it before it was told.
  void Told(ProcessId p) {
    const std::uint32_t generation = model_->process_generation(p);
    told_generation_[p] = generation;
    for (auto it = unplaced_pins_.begin(); it != unplaced_pins_.end();) {
      if (it->slot == p && it->generation == generation) {
        Notify(std::move(it->apply));
        it = unplaced_pins_.erase(it);
      } else {
        ++it;
      }
    }
  }

  struct UnplacedPin {
    ProcessId slot;
    std::uint32_t generation;
    std::function<void(Oracle&)> apply;
  };

  std::unique_ptr<Model> model_;
  Oracle oracle_;
  DeterministicScheduler scheduler_;
  MmRunVerdict verdict_;
  std::vector<ProcessId> processes_;
  std::vector<LivePin> pins_;
  std::vector<Entry> log_;
  std::map<ProcessId, std::uint32_t> told_generation_;  // the incarnation the oracle knows
  std::vector<UnplacedPin> unplaced_pins_;              // landed in an incarnation not told yet
  std::uint64_t clock_ = 0;
  int in_flight_ = 0;
  std::uint64_t operations_started_ = 0;         // Perform calls so far in this run
  std::vector<std::pair<mm::RefId, int>> refs_;  // live extra references and their threads
  int fast_pins_ = 0;
  std::uint64_t next_value_ = 1;
};

template <class Sync>
absl::StatusOr<std::unique_ptr<MmInterleaveRunner>> Make(const mm::MmOptions& options) {
  absl::StatusOr<std::unique_ptr<mm::BasicMmModel<Sync>>> model =
      mm::BasicMmModel<Sync>::Create(options);
  if (!model.ok()) return model.status();
  return std::make_unique<Runner<Sync>>(*std::move(model));
}

}  // namespace

std::string DescribeOp(const MmThreadOp& op) {
  const char* name = "?";
  switch (op.kind) {
    case MmThreadOpKind::kPinRead:
      name = "pin read";
      break;
    case MmThreadOpKind::kPinWrite:
      name = "pin write";
      break;
    case MmThreadOpKind::kFork:
      return absl::StrCat("fork p", op.process);
    case MmThreadOpKind::kUnmap:
      name = "unmap";
      break;
    case MmThreadOpKind::kWrite:
      name = "write";
      break;
    case MmThreadOpKind::kUnpin:
      return "unpin";
    case MmThreadOpKind::kExit:
      return absl::StrCat("exit p", op.process);
    case MmThreadOpKind::kProtectRo:
      name = "protect-ro";
      break;
    case MmThreadOpKind::kProtectRw:
      name = "protect-rw";
      break;
    case MmThreadOpKind::kRef:
      name = "ref";
      break;
    case MmThreadOpKind::kDrop:
      return "drop";
    case MmThreadOpKind::kPinSlowRead:
      name = "pin-slow-read";
      break;
    case MmThreadOpKind::kPinSlowWrite:
      name = "pin-slow-write";
      break;
    case MmThreadOpKind::kPinShortRead:
      name = "pin-short-read";
      break;
    case MmThreadOpKind::kPinShortWrite:
      name = "pin-short-write";
      break;
    case MmThreadOpKind::kRead:
      name = "read";
      break;
    case MmThreadOpKind::kReadPin:
      return "read-pin";
  }
  return absl::StrCat(name, " p", op.process, " ", op.addr);
}

absl::StatusOr<std::unique_ptr<MmInterleaveRunner>> MmInterleaveRunner::Create(
    const std::string& policy, MmModelVariant variant) {
  mm::MmOptions options;
  options.policy = policy;
  options.max_pages = 64;
  options.max_processes = 16;
  options.max_handles = 32;
  return WithVariantSync<DeterministicSync>(
      variant, options,
      []<class Sync>(const mm::MmOptions& adjusted) { return Make<Sync>(adjusted); });
}

}  // namespace pinsplit
