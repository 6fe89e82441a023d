// SPDX-License-Identifier: MIT
#include "pinsplit/mm/mm_replay.h"

#include <algorithm>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "pinsplit/json_string.h"
#include "pinsplit/mm/truth_oracle.h"

namespace pinsplit::mm {
namespace {

std::uint64_t TotalCopies(const MmStats& s) {
  return s.copies_at_fork + s.copies_at_fault + s.unshares;
}

}  // namespace

MmSession::MmSession(std::unique_ptr<MmModel> model, std::string policy, std::ostream* trace)
    : model_(std::move(model)), oracle_(*model_), trace_(trace) {
  // The model narrates only for a trace: the narration costs a string per decision.
  if (trace_ != nullptr) model_->set_event_log(&events_);
  result_.policy = std::move(policy);
  result_.counter = std::string(model_->counter_name());
}

MmSession::~MmSession() = default;

absl::StatusOr<std::unique_ptr<MmSession>> MmSession::Create(const MmOptions& options,
                                                             std::ostream* trace) {
  absl::StatusOr<std::unique_ptr<MmModel>> model = MmModel::Create(options);
  if (!model.ok()) return model.status();
  return std::unique_ptr<MmSession>(new MmSession(*std::move(model), options.policy, trace));
}

void MmSession::Reset() {
  model_->reset();
  oracle_.reset();
  events_.clear();
  processes_.clear();
  pins_.clear();
  refs_.clear();
  MmReplayResult fresh;
  fresh.policy = std::move(result_.policy);
  fresh.counter = std::move(result_.counter);
  result_ = std::move(fresh);
  reported_.clear();
  last_line_ = 0;
}

absl::Status MmSession::Step(const MmOp& op, std::string* got) {
  absl::Status status = TryStep(op, got);
  if (status.ok()) return status;
  return absl::FailedPreconditionError(
      absl::StrCat("line ", op.line, ": ", Format(op), ": ", status.message()));
}

absl::Status MmSession::TryStep(const MmOp& op, std::string* got_out) {
  ++result_.steps;
  events_.clear();
  std::string got;
  std::vector<Violation> violations;
  if (absl::Status status = Apply(op, got, violations); !status.ok()) {
    --result_.steps;
    return status;
  }
  for (Violation& v : oracle_.check_state()) violations.push_back(std::move(v));
  if (trace_ != nullptr) {
    *trace_ << absl::StrFormat("%4d  %-36s -> %s\n", op.line, Format(op), got);
    for (const std::string& e : events_) *trace_ << "        " << e << "\n";
  }
  if (op.result && *op.result != got) {
    if (trace_ != nullptr) *trace_ << "        FAIL: expected " << *op.result << "\n";
    result_.failures.push_back(
        absl::StrCat("line ", op.line, ": ", Format(op), ": expected ", *op.result, ", got ", got));
  }
  Report(op.line, violations);
  result_.stats = model_->stats();
  if (got_out != nullptr) *got_out = std::move(got);
  return absl::OkStatus();
}

const MmReplayResult& MmSession::Finish() {
  if (oracle_.quiescent()) {
    Report(last_line_, oracle_.check_quiescent(&result_.saturated_leaks));
    if (trace_ != nullptr) {
      for (PageId page : result_.saturated_leaks) {
        *trace_ << "        page " << page << " saturated: leaked, as designed\n";
      }
    }
  }
  result_.stats = model_->stats();
  return result_;
}

// A state that stays wrong is reported once, at the step that made it so.
void MmSession::Report(int line, const std::vector<Violation>& violations) {
  last_line_ = std::max(last_line_, line);
  for (const Violation& v : violations) {
    if (!reported_.insert(absl::StrCat(v.invariant, ": ", v.detail)).second) continue;
    if (trace_ != nullptr)
      *trace_ << "        VIOLATION " << v.invariant << ": " << v.detail << "\n";
    result_.violations.push_back(absl::StrCat("line ", line, ": ", v.invariant, ": ", v.detail));
  }
}

absl::StatusOr<ProcessId> MmSession::Process(const std::string& name) const {
  auto it = processes_.find(name);
  if (it == processes_.end())
    return absl::FailedPreconditionError(absl::StrCat(name, " has exited"));
  return it->second;
}

std::optional<ProcessId> MmSession::process_id(const std::string& name) const {
  auto it = processes_.find(name);
  if (it == processes_.end()) return std::nullopt;
  return it->second;
}

std::optional<PinId> MmSession::pin_id(const std::string& name) const {
  auto it = pins_.find(name);
  if (it == pins_.end()) return std::nullopt;
  return it->second;
}

absl::Status MmSession::Apply(const MmOp& op, std::string& got,
                              std::vector<Violation>& violations) {
  got = "ok";
  if (op.kind == MmOpKind::kSpawn) {
    absl::StatusOr<ProcessId> p = model_->spawn();
    if (!p.ok()) return p.status();
    processes_[op.process] = *p;
    oracle_.on_spawn(*p);
    oracle_.name_process(*p, op.process);
    return absl::OkStatus();
  }
  if (op.kind == MmOpKind::kUnpin || op.kind == MmOpKind::kPinRead ||
      op.kind == MmOpKind::kPinWrite) {
    auto it = pins_.find(op.name);
    if (it == pins_.end()) {
      return absl::FailedPreconditionError(absl::StrCat("pin ", op.name, " is not held"));
    }
    const PinId pin = it->second;
    if (op.kind == MmOpKind::kUnpin) {
      if (absl::Status s = model_->unpin(pin); !s.ok()) return s;
      oracle_.on_unpin(pin);
      pins_.erase(it);
    } else if (op.kind == MmOpKind::kPinRead) {
      absl::StatusOr<std::uint64_t> value = model_->read_pin(pin);
      if (!value.ok()) return value.status();
      got = absl::StrCat(*value);
      if (auto v = oracle_.check_pin_read(pin, *value)) violations.push_back(*v);
    } else {
      if (absl::Status s = model_->write_pin(pin, op.value); !s.ok()) return s;
      oracle_.on_write_pin(pin, op.value);
    }
    return absl::OkStatus();
  }
  if (op.kind == MmOpKind::kDrop) {
    auto it = refs_.find(op.name);
    if (it == refs_.end()) {
      return absl::FailedPreconditionError(absl::StrCat("reference ", op.name, " is not held"));
    }
    if (absl::Status s = model_->drop_ref(it->second); !s.ok()) return s;
    oracle_.on_drop_ref();
    refs_.erase(it);
    return absl::OkStatus();
  }
  absl::StatusOr<ProcessId> p = Process(op.process);
  if (!p.ok()) return p.status();
  switch (op.kind) {
    case MmOpKind::kMap:
      if (absl::Status s = model_->map(*p, op.addr, op.last); !s.ok()) return s;
      oracle_.on_map(*p, op.addr, op.last);
      break;
    case MmOpKind::kUnmap:
      if (absl::Status s = model_->unmap(*p, op.addr); !s.ok()) return s;
      oracle_.on_unmap(*p, op.addr);
      break;
    case MmOpKind::kRead: {
      absl::StatusOr<std::uint64_t> value = model_->read(*p, op.addr);
      if (!value.ok()) return value.status();
      got = absl::StrCat(*value);
      if (auto v = oracle_.check_read(*p, op.addr, *value)) violations.push_back(*v);
      break;
    }
    case MmOpKind::kWrite:
      if (absl::Status s = model_->write(*p, op.addr, op.value); !s.ok()) return s;
      oracle_.on_write(*p, op.addr, op.value);
      break;
    case MmOpKind::kFork: {
      absl::StatusOr<ProcessId> child = model_->fork(*p);
      if (!child.ok()) return child.status();
      processes_[op.name] = *child;
      oracle_.on_fork(*p, *child);
      oracle_.name_process(*child, op.name);
      break;
    }
    case MmOpKind::kProtect:
      if (absl::Status s = model_->protect(*p, op.addr, op.writable); !s.ok()) return s;
      oracle_.on_protect(*p, op.addr, op.writable);
      break;
    case MmOpKind::kPin: {
      absl::StatusOr<PinOutcome> outcome = model_->pin(*p, op.addr, op.pin, op.longterm, op.fast);
      if (!outcome.ok()) return outcome.status();
      got = std::string(to_string(outcome->result));
      if (outcome->result == PinResult::kPinned) {
        pins_[op.name] = outcome->id;
        oracle_.name_pin(outcome->id, op.name);
        oracle_.on_pin(outcome->id, *p, op.addr, op.pin, op.longterm);
        if (outcome->fast) events_.push_back("pinned by GUP-fast");
      }
      break;
    }
    case MmOpKind::kRef: {
      absl::StatusOr<RefId> ref = model_->take_ref(*p, op.addr);
      if (!ref.ok()) return ref.status();
      refs_[op.name] = *ref;
      oracle_.on_take_ref();
      break;
    }
    case MmOpKind::kExit:
      if (absl::Status s = model_->exit(*p); !s.ok()) return s;
      oracle_.on_exit(*p);
      processes_.erase(op.process);
      break;
    default:
      return absl::InternalError("unhandled operation");
  }
  return absl::OkStatus();
}

absl::StatusOr<MmReplayResult> ReplayMmScript(const MmScript& script, const MmOptions& options,
                                              std::ostream* trace) {
  absl::StatusOr<std::unique_ptr<MmSession>> session = MmSession::Create(options, trace);
  if (!session.ok()) return session.status();
  for (const MmOp& op : script.ops) {
    if (absl::Status s = (*session)->Step(op); !s.ok()) return s;
  }
  return (*session)->Finish();
}

absl::StatusOr<std::vector<MmReplayResult>> ComparePolicies(const MmScript& script) {
  std::vector<MmReplayResult> rows;
  for (const std::string& policy : KnownPolicies()) {
    MmOptions options;
    options.policy = policy;
    absl::StatusOr<MmReplayResult> row = ReplayMmScript(script, options);
    if (!row.ok()) return row.status();
    rows.push_back(*std::move(row));
  }
  return rows;
}

std::string FormatCompareTable(const std::vector<MmReplayResult>& rows) {
  std::uint64_t ideal = 0;
  for (const MmReplayResult& r : rows) {
    if (r.policy == "ideal") ideal = TotalCopies(r.stats);
  }
  std::string out = absl::StrFormat("%-15s %-13s %10s %10s %10s %8s %8s %8s %8s\n", "policy",
                                    "counter", "violations", "fork-copy", "fault-copy", "unshare",
                                    "refused", "false-mp", "> ideal");
  for (const MmReplayResult& r : rows) {
    absl::StrAppendFormat(
        &out, "%-15s %-13s %10d %10d %10d %8d %8d %8d %8d\n", r.policy, r.counter,
        r.violations.size(), r.stats.copies_at_fork, r.stats.copies_at_fault, r.stats.unshares,
        r.stats.pins_refused, r.stats.false_maybe_pinned,
        static_cast<std::int64_t>(TotalCopies(r.stats)) - static_cast<std::int64_t>(ideal));
  }
  return out;
}

std::string FormatCompareJson(const std::vector<MmReplayResult>& rows, std::string_view scenario,
                              std::string_view run_json) {
  std::uint64_t ideal = 0;
  for (const MmReplayResult& r : rows) {
    if (r.policy == "ideal") ideal = TotalCopies(r.stats);
  }
  std::vector<std::string> items;
  items.reserve(rows.size());
  for (const MmReplayResult& r : rows) {
    items.push_back(absl::StrFormat(
        "{\"policy\": %s, \"counter\": %s, \"violations\": %d, \"copies_at_fork\": %d, "
        "\"copies_at_fault\": %d, \"unshares\": %d, \"pins_refused\": %d, "
        "\"false_maybe_pinned\": %d, \"copies_beyond_ideal\": %d, \"first_violation\": %s}",
        JsonString(r.policy), JsonString(r.counter), r.violations.size(), r.stats.copies_at_fork,
        r.stats.copies_at_fault, r.stats.unshares, r.stats.pins_refused, r.stats.false_maybe_pinned,
        static_cast<std::int64_t>(TotalCopies(r.stats)) - static_cast<std::int64_t>(ideal),
        r.violations.empty() ? "null" : JsonString(r.violations[0])));
  }
  return absl::StrCat("{\"kind\": \"compare\", \"run\": ", std::string(run_json),
                      ", \"scenario\": ", JsonString(scenario), ", \"policies\": [\n  ",
                      absl::StrJoin(items, ",\n  "), "\n]}\n");
}

}  // namespace pinsplit::mm
