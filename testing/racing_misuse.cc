// SPDX-License-Identifier: MIT
#include "racing_misuse.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace pinsplit {
namespace {

bool Has(const std::vector<Misuse>& reports, Misuse m) {
  return std::find(reports.begin(), reports.end(), m) != reports.end();
}

// The kinds a misused operation may report.
bool AllowedForMisuse(const CounterOp& op, Misuse m) {
  switch (op.kind) {
    case CounterOpKind::kGet:
      return m == Misuse::kGetOnDead || m == Misuse::kSaturated || m == Misuse::kOverflow;
    case CounterOpKind::kPut:
      return m == Misuse::kPutUnderflow || m == Misuse::kPutOnDead || m == Misuse::kSaturated;
    case CounterOpKind::kUnpin:
      return m == Misuse::kUnpinUnderflow || m == Misuse::kUnpinOnDead;
    default:
      return false;
  }
}

std::string Name(const MisuseOpOutcome& o) {
  return absl::StrCat("T", o.thread, "#", o.index + 1, " ", o.misuse ? "misuse " : "",
                      Format(o.op));
}

std::string Reports(const std::vector<Misuse>& reports) {
  std::vector<std::string> names;
  names.reserve(reports.size());
  for (Misuse m : reports) names.emplace_back(to_string(m));
  return names.empty() ? "none" : absl::StrJoin(names, ",");
}

}  // namespace

std::string RacingMisuseRefusal(const InterleaveScript& script, const Capabilities& caps,
                                const std::vector<MisuseHoldings>& dealt) {
  if (!caps.exact_pins || !caps.pin_kinds || !caps.detects_unpin_misuse || !caps.saturates) {
    return "racing misuse is checked against split_refcount.h's promises; this counter makes "
           "none (it cannot tell an unpin without a pin)";
  }
  const int misuser = script.misuse_thread();
  if (misuser < 0) return "";
  const bool saturated = script.initial && script.initial->spec.saturated.value_or(false);
  bool refs = false, read = false, write = false;
  for (std::size_t t = 0; t < script.threads.size(); ++t) {
    if (static_cast<int>(t) == misuser) continue;
    if (t < dealt.size()) {
      refs |= dealt[t].refs > 0;
      read |= dealt[t].read > 0;
      write |= dealt[t].write > 0;
    }
    for (const CounterOp& op : script.threads[t]) {
      refs |= op.kind == CounterOpKind::kGet || op.kind == CounterOpKind::kTryGet;
      read |= op.kind == CounterOpKind::kPin && op.pin == PinKind::kRead;
      write |= op.kind == CounterOpKind::kPin && op.pin == PinKind::kWrite;
    }
  }
  const auto& ops = script.threads[misuser];
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (!script.is_misuse(misuser, i)) continue;
    const CounterOp& op = ops[i];
    const bool hidden =
        (op.kind == CounterOpKind::kPut && refs && !saturated) ||
        (op.kind == CounterOpKind::kUnpin && (op.pin == PinKind::kRead ? read : write));
    if (hidden) {
      return absl::StrCat("line ", op.line, ": misuse ", Format(op),
                          " races with threads that may hold what it drops, so it could take "
                          "one of theirs and no counter could see it; racing misuse needs a "
                          "kind no correct thread holds");
    }
  }
  return "";
}

std::vector<std::string> CheckRacingMisuse(const InterleaveScript& script,
                                           const MisuseRunFacts& facts) {
  std::vector<std::string> broken;
  bool misused_get = false;
  for (std::size_t t = 0; t < script.threads.size(); ++t) {
    for (std::size_t i = 0; i < script.threads[t].size(); ++i) {
      if (!script.is_misuse(t, i)) continue;
      misused_get |= script.threads[t][i].kind == CounterOpKind::kGet;
    }
  }
  // The header's one resurrection window is a misused get's; a misused unpin writes nothing.
  const bool windows = misused_get;

  int lasts = 0;
  bool saturating_report = facts.start_saturated;
  for (const MisuseOpOutcome& o : facts.ops) {
    lasts += o.result == "last";
    saturating_report |= Has(o.reports, Misuse::kOverflow) || Has(o.reports, Misuse::kSaturated) ||
                         Has(o.reports, Misuse::kPutUnderflow);
    if (o.misuse) {
      // 1. The misuse is reported, as one of its own kinds.
      for (Misuse m : o.reports) {
        if (!AllowedForMisuse(o.op, m)) {
          broken.push_back(absl::StrCat(Name(o), " reported ", std::string(to_string(m)),
                                        ", not a kind this misuse can be"));
        }
      }
      const bool must_report = (o.detectable && o.op.kind != CounterOpKind::kGet) ||
                               (o.op.kind == CounterOpKind::kGet && o.result == "dead");
      const bool reported = std::any_of(o.reports.begin(), o.reports.end(), [&](Misuse m) {
        return AllowedForMisuse(o.op, m) &&
               (o.op.kind != CounterOpKind::kGet || o.result != "dead" || m == Misuse::kGetOnDead);
      });
      if (must_report && !reported) {
        broken.push_back(
            absl::StrCat(Name(o), " => ", o.result,
                         ": the misuse was not reported (reports: ", Reports(o.reports), ")"));
      }
      continue;
    }
    // 4. What a correct operation may report.
    for (Misuse m : o.reports) {
      const bool edge = m == Misuse::kOverflow || m == Misuse::kSaturated;
      const bool resurrected = windows && (m == Misuse::kPutOnDead || m == Misuse::kUnpinOnDead ||
                                           m == Misuse::kGetOnDead);
      if (!edge && !resurrected) {
        broken.push_back(absl::StrCat(Name(o), " => ", o.result, " reported ",
                                      std::string(to_string(m)),
                                      ": the misuse's damage reached a correct holder"));
      }
    }
  }

  // 3. At most one last drop; a live word had none; a dead word keeps no holder.
  const RefcountState& f = facts.final_state;
  if (lasts > 1) broken.push_back(absl::StrCat(lasts, " operations answered last: a double free"));
  if (lasts == 1 && !f.dead) {
    broken.push_back("an operation answered last, but the word ended alive: freed while in use");
  }
  // Start holders no thread was dealt hold on for the whole run, outside it.
  MisuseHoldings held = facts.undealt;
  for (std::size_t t = 0; t < facts.holdings.size(); ++t) {
    const MisuseHoldings& h = facts.holdings[t];
    held.refs += h.refs;
    held.read += h.read;
    held.write += h.write;
    if (!f.dead) continue;
    const MisuseHoldings w =
        windows && t < facts.windowed.size() ? facts.windowed[t] : MisuseHoldings{};
    if (h.refs > w.refs || h.read > w.read || h.write > w.write) {
      broken.push_back(absl::StrCat("the word is dead while thread ", t + 1, " holds refs=", h.refs,
                                    " read=", h.read, " write=", h.write,
                                    windows ? " (more than its try_get/try_pin took)" : ""));
    }
  }
  // 2. The fields are exact for the holders.
  const MisuseHoldings& leaked = facts.leaked;
  if (f.read_pins != held.read + leaked.read || f.write_pins != held.write + leaked.write) {
    broken.push_back(absl::StrCat("pin fields read=", f.read_pins, " write=", f.write_pins,
                                  ", but the threads hold read=", held.read, " write=", held.write,
                                  " and leaked read=", leaked.read, " write=", leaked.write,
                                  ": an operation was lost"));
  }
  if (f.saturated && !saturating_report) {
    broken.push_back("the word saturated without an overflow, saturated or put-underflow report");
  }
  if (!f.dead && !f.saturated && f.refs != held.refs + leaked.refs) {
    broken.push_back(absl::StrCat("refs=", f.refs, ", but the threads hold ", held.refs,
                                  " and leaked ", leaked.refs, ": an operation was lost"));
  }
  return broken;
}

}  // namespace pinsplit
