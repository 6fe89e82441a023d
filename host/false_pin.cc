// SPDX-License-Identifier: MIT
#include "false_pin.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "pinsplit/mm/mm_model.h"

namespace pinsplit::host {
namespace {

mm::MmOp Op(mm::MmOpKind kind, std::string process, std::uint32_t addr = 0, std::string name = "") {
  mm::MmOp op;
  op.kind = kind;
  op.process = std::move(process);
  op.addr = addr;
  op.last = addr;
  op.name = std::move(name);
  return op;
}

absl::StatusOr<bool> HostTrial(const HostOptions& options, std::uint32_t refs, bool pin_first) {
  absl::StatusOr<std::unique_ptr<HostSession>> session = HostSession::Create(options);
  if (!session.ok()) return session.status();
  HostSession& s = **session;
  std::vector<mm::MmOp> ops = {Op(mm::MmOpKind::kSpawn, "A"), Op(mm::MmOpKind::kMap, "A", 0)};
  ops[1].last = 1;
  mm::MmOp write = Op(mm::MmOpKind::kWrite, "A", 0);
  write.value = 1;
  ops.push_back(write);
  if (pin_first) {
    mm::MmOp pin = Op(mm::MmOpKind::kPin, "A", 1, "h");
    pin.pin = PinKind::kWrite;
    pin.longterm = true;
    ops.push_back(pin);
    ops.push_back(Op(mm::MmOpKind::kUnpin, "", 0, "h"));
  }
  for (const mm::MmOp& op : ops) {
    if (absl::Status st = s.Step(op); !st.ok()) return st;
  }
  if (refs > 0) {
    if (absl::Status st = s.TakeBulkRefs("A", 0, refs); !st.ok()) return st;
  }
  if (absl::Status st = s.Step(Op(mm::MmOpKind::kFork, "A", 0, "B")); !st.ok()) return st;
  const bool copied = s.stats().copies_at_fork > 0;
  if (absl::Status st = s.Shutdown(); !st.ok()) return st;
  return copied;
}

absl::StatusOr<bool> ModelTrial(const std::string& policy, std::uint32_t refs) {
  mm::MmOptions options;
  options.policy = policy;
  options.max_handles = refs + 8;
  absl::StatusOr<std::unique_ptr<mm::MmModel>> model = mm::MmModel::Create(options);
  if (!model.ok()) return model.status();
  mm::MmModel& m = **model;
  absl::StatusOr<mm::ProcessId> a = m.spawn();
  if (!a.ok()) return a.status();
  if (absl::Status s = m.map(*a, 0, 1); !s.ok()) return s;
  if (absl::Status s = m.write(*a, 0, 1); !s.ok()) return s;
  absl::StatusOr<mm::PinOutcome> pin = m.pin(*a, 1, PinKind::kWrite, true, false);
  if (!pin.ok()) return pin.status();
  if (absl::Status s = m.unpin(pin->id); !s.ok()) return s;
  for (std::uint32_t i = 0; i < refs; ++i) {
    absl::StatusOr<mm::RefId> r = m.take_ref(*a, 0);
    if (!r.ok()) return r.status();
  }
  absl::StatusOr<mm::ProcessId> b = m.fork(*a);
  if (!b.ok()) return b.status();
  return m.stats().copies_at_fork > 0;
}

// The smallest N in [0, max] for which trial(N) copies (monotone in N), or nullopt.
template <typename Trial>
absl::StatusOr<std::optional<std::uint32_t>> Threshold(std::uint32_t max, Trial trial) {
  absl::StatusOr<bool> at_max = trial(max);
  if (!at_max.ok()) return at_max.status();
  if (!*at_max) return std::optional<std::uint32_t>();
  absl::StatusOr<bool> at_zero = trial(0);
  if (!at_zero.ok()) return at_zero.status();
  if (*at_zero) return std::optional<std::uint32_t>(0);
  std::uint32_t lo = 0, hi = max;  // lo shares, hi copies
  while (hi - lo > 1) {
    const std::uint32_t mid = lo + (hi - lo) / 2;
    absl::StatusOr<bool> copied = trial(mid);
    if (!copied.ok()) return copied.status();
    (*copied ? hi : lo) = mid;
  }
  return std::optional<std::uint32_t>(hi);
}

}  // namespace

absl::StatusOr<FalsePinResult> MeasureFalsePin(const HostOptions& options, std::uint32_t max_refs,
                                               std::ostream* progress) {
  FalsePinResult result;
  result.max_refs = max_refs;
  const auto host_trial = [&](std::uint32_t n) -> absl::StatusOr<bool> {
    if (HostStopRequested()) return absl::CancelledError("stopped by a signal");
    absl::StatusOr<bool> copied = HostTrial(options, n, /*pin_first=*/true);
    if (!copied.ok()) return copied.status();
    result.host_trials.emplace_back(n, *copied);
    if (progress != nullptr) {
      *progress << absl::StrFormat("  host: %4d references -> fork %s\n", n,
                                   *copied ? "copies" : "shares");
    }
    return copied;
  };
  absl::StatusOr<std::optional<std::uint32_t>> host = Threshold(max_refs, host_trial);
  if (!host.ok()) return host.status();
  result.host_copy_threshold = *host;
  if (*host) {
    // The edge again, kRepeats times per count: the kernel's count holds transient references
    // (a busy machine shows more of them), so one search is one sample.
    const std::uint32_t lo = **host >= 3 ? **host - 3 : 0;
    const std::uint32_t hi = std::min(max_refs, **host + 2);
    for (std::uint32_t n = lo; n <= hi; ++n) {
      FalsePinResult::Edge edge{n, 0, 0};
      for (int i = 0; i < FalsePinResult::kRepeats; ++i) {
        absl::StatusOr<bool> again = host_trial(n);
        if (!again.ok()) return again.status();
        ++edge.runs;
        edge.copies += *again ? 1 : 0;
      }
      result.edge.push_back(edge);
    }
    // Always copies from the threshold on (within the window); sometimes from the first copy.
    result.host_copy_threshold.reset();
    for (auto it = result.edge.rbegin(); it != result.edge.rend() && it->copies == it->runs; ++it) {
      result.host_copy_threshold = it->refs;
    }
    for (const FalsePinResult::Edge& e : result.edge) {
      if (e.copies > 0) {
        result.host_first_copy = e.refs;
        break;
      }
    }
  }
  absl::StatusOr<bool> control = HostTrial(options, max_refs, /*pin_first=*/false);
  if (!control.ok()) return control.status();
  result.host_control_copied = *control;
  for (const auto& entry : {std::pair{"anon-exclusive", &result.bias_model_threshold},
                            std::pair{"split", &result.split_model_threshold}}) {
    const std::string policy = entry.first;
    std::optional<std::uint32_t>* out = entry.second;
    absl::StatusOr<std::optional<std::uint32_t>> t =
        Threshold(max_refs, [&](std::uint32_t n) { return ModelTrial(policy, n); });
    if (!t.ok()) return t.status();
    *out = *t;
  }
  return result;
}

std::string FalsePinJson(const FalsePinResult& r) {
  const auto num = [](const std::optional<std::uint32_t>& v) {
    return v ? absl::StrCat(*v) : std::string("null");
  };
  std::vector<std::string> edge;
  for (const FalsePinResult::Edge& e : r.edge) {
    edge.push_back(
        absl::StrFormat("{\"refs\": %d, \"copies\": %d, \"runs\": %d}", e.refs, e.copies, e.runs));
  }
  std::vector<std::string> trials;
  for (const auto& [n, copied] : r.host_trials) {
    trials.push_back(absl::StrFormat("[%d, %s]", n, copied ? "true" : "false"));
  }
  return absl::StrFormat(
      "{\"host_copy_threshold\": %s, \"bias_model_threshold\": %s, \"split\": %s, "
      "\"max_refs\": %d, \"host_without_earlier_pin_copies\": %s, "
      "\"host_first_copy\": %s, \"host_edge\": [%s], \"host_trials\": [%s]}",
      num(r.host_copy_threshold), num(r.bias_model_threshold),
      r.split_model_threshold ? absl::StrCat(*r.split_model_threshold) : "\"never\"", r.max_refs,
      r.host_control_copied ? "true" : "false", num(r.host_first_copy), absl::StrJoin(edge, ", "),
      absl::StrJoin(trials, ", "));
}

}  // namespace pinsplit::host
