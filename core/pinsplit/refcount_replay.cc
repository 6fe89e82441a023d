// SPDX-License-Identifier: MIT
#include "pinsplit/refcount_replay.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "pinsplit/misuse.h"

namespace pinsplit {
namespace {

thread_local std::ostream* misuse_trace = nullptr;

void TraceMisuse(const MisuseReport& report) {
  if (misuse_trace == nullptr) return;
  *misuse_trace << absl::StrFormat("        misuse: %s (%s, word was 0x%08x)\n",
                                   to_string(report.kind), report.scheme, report.before);
}

// Installs the tracing hook for the lifetime of a replay on this thread.
class ScopedMisuseTrace {
 public:
  explicit ScopedMisuseTrace(std::ostream* trace)
      : previous_trace_(misuse_trace), previous_hook_(set_misuse_hook(&TraceMisuse)) {
    misuse_trace = trace;
  }
  ~ScopedMisuseTrace() {
    set_misuse_hook(previous_hook_);
    misuse_trace = previous_trace_;
  }
  ScopedMisuseTrace(const ScopedMisuseTrace&) = delete;
  ScopedMisuseTrace& operator=(const ScopedMisuseTrace&) = delete;

 private:
  std::ostream* previous_trace_;
  MisuseHook previous_hook_;
};

std::string YesNo(bool b) { return b ? "yes" : "no"; }

}  // namespace

void CheckStateSpec(const StateSpec& spec, const RefcountState& state, const Capabilities& caps,
                    std::vector<std::string>& diffs, std::vector<std::string>& unchecked) {
  auto compare = [&](std::string_view what, std::uint64_t want, std::uint64_t got) {
    if (want != got) diffs.push_back(absl::StrCat(std::string(what), "=", want, ", got ", got));
  };
  if (caps.pin_kinds) {
    if (spec.refs) compare("refs", *spec.refs, state.refs);
    if (spec.read) compare("read", *spec.read, state.read_pins);
    if (spec.write) compare("write", *spec.write, state.write_pins);
  } else if (caps.refuses_overflow) {  // bias: refs and pins share one count
    if (spec.refs) compare("refs (count % 1024)", *spec.refs, state.refs);
    if (spec.read && spec.write) {
      compare("read+write (count / 1024)", std::uint64_t{*spec.read} + *spec.write, state.pins);
    } else if (spec.read || spec.write) {
      unchecked.push_back("read/write (bias checks them only together)");
    }
  } else {  // plain: pins are references
    if (spec.refs && spec.read && spec.write) {
      compare("refs+read+write (count)", std::uint64_t{*spec.refs} + *spec.read + *spec.write,
              state.refs);
    } else if (spec.refs || spec.read || spec.write) {
      unchecked.push_back("refs/read/write (plain checks them only together)");
    }
  }
  if (spec.saturated && *spec.saturated != state.saturated) {
    diffs.push_back(
        absl::StrCat("saturated=", YesNo(*spec.saturated), ", got ", YesNo(state.saturated)));
  }
  if (spec.dead && *spec.dead != state.dead) {
    diffs.push_back(absl::StrCat("dead=", YesNo(*spec.dead), ", got ", YesNo(state.dead)));
  }
}

std::string FormatState(const RefcountState& state, const Capabilities& caps) {
  std::string out;
  if (caps.pin_kinds) {
    out =
        absl::StrFormat("refs=%u read=%u write=%u", state.refs, state.read_pins, state.write_pins);
  } else if (caps.refuses_overflow) {
    out = absl::StrFormat("refs~%u pins~%u", state.refs, state.pins);
  } else {
    out = absl::StrFormat("count=%u", state.refs);
  }
  absl::StrAppendFormat(&out, " saturated=%s dead=%s raw=0x%08x", YesNo(state.saturated),
                        YesNo(state.dead), state.raw);
  return out;
}

absl::StatusOr<ReplayResult> ReplayCounterScript(const CounterScript& script, AnyRefcount& counter,
                                                 std::ostream* trace) {
  ScopedMisuseTrace scoped_trace(trace);
  ReplayResult result;
  const Capabilities caps = counter.capabilities();
  for (const CounterOp& op : script.ops) {
    ++result.steps;
    std::string got;
    std::vector<std::string> diffs;
    std::vector<std::string> unchecked;
    switch (op.kind) {
      case CounterOpKind::kGet:
      case CounterOpKind::kTryGet:
      case CounterOpKind::kPut:
      case CounterOpKind::kPin:
      case CounterOpKind::kUnpin:
        got = *ApplyCounterOp(counter, op);
        break;
      case CounterOpKind::kSet: {
        const bool saturated = op.spec.saturated.value_or(false);
        if (!counter.reset(op.spec.refs.value_or(0), op.spec.read.value_or(0),
                           op.spec.write.value_or(0), saturated)) {
          const RefcountLimits limits = counter.limits();
          return absl::InvalidArgumentError(absl::StrFormat(
              "line %d: %s cannot hold '%s' (max refs %u, read %u, write %u%s)", op.line,
              counter.name(), Format(op.spec), limits.max_refs, limits.max_read_pins,
              limits.max_write_pins, caps.saturates ? "" : ", never saturated"));
        }
        got = "set";
        break;
      }
      case CounterOpKind::kExpect:
        CheckStateSpec(op.spec, counter.state(), caps, diffs, unchecked);
        got = diffs.empty() ? "holds" : "FAILED";
        break;
    }
    if (op.result && *op.result != got) {
      diffs.push_back(absl::StrCat("result ", *op.result, ", got ", got));
    }
    if (trace != nullptr) {
      *trace << absl::StrFormat("%4d  %-28s -> %-7s %s\n", op.line, Format(op), got,
                                FormatState(counter.state(), caps));
      for (const std::string& u : unchecked) {
        *trace << absl::StrFormat("        unchecked on %s: %s\n", counter.name(), u);
      }
    }
    for (const std::string& d : diffs) {
      result.failures.push_back(
          absl::StrFormat("line %d: %s: expected %s", op.line, Format(op), d));
      if (trace != nullptr) *trace << "        FAIL: expected " << d << "\n";
    }
  }
  return result;
}

}  // namespace pinsplit
