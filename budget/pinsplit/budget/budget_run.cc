// SPDX-License-Identifier: MIT
#include "pinsplit/budget/budget_run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "pinsplit/budget/erlang.h"
#include "pinsplit/json_string.h"

namespace pinsplit::budget {
namespace {

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

double Risk(const LayoutResult& r) {
  return std::max({r.read_refusal_log10, r.write_refusal_log10, r.ordinary_saturation_log10});
}

// The cheapest unmitigated attack on any field of the layout, in memlock + kernel bytes.
double Price(const std::vector<AttackCost>& attacks, const LayoutSpec& layout) {
  double price = std::numeric_limits<double>::infinity();
  for (const AttackCost& a : attacks) {
    if (!(a.layout == layout) || a.mitigation != Mitigation::kNone || a.field == "maybe_pinned") {
      continue;
    }
    price = std::min(price, static_cast<double>(a.memlock_bytes + a.kernel_bytes));
  }
  return price;
}

Verdict Judge(const BudgetReport& report, const std::vector<LayoutResult>& seed_results) {
  Verdict v;
  const std::size_t n = report.layouts.size();
  std::vector<double> risk(n, kMinusInf), price(n);
  std::vector<bool> meets(n, true);
  for (const WorkloadReport& w : report.workloads) {
    for (std::size_t i = 0; i < n; ++i) {
      risk[i] = std::max(risk[i], Risk(w.analytic[i]));
      meets[i] = meets[i] && w.analytic[i].meets_target;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    price[i] = Price(report.attacks, report.layouts[i]);
    if (meets[i]) v.meeting.push_back(report.layouts[i].Name());
  }
  // The frontier is over the splits; bias is the reference they are compared with.
  for (std::size_t i = 0; i < n; ++i) {
    if (report.layouts[i].bias) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < n && !dominated; ++j) {
      if (report.layouts[j].bias) continue;
      dominated = j != i && risk[j] <= risk[i] && price[j] >= price[i] &&
                  (risk[j] < risk[i] || price[j] > price[i]);
    }
    if (!dominated) v.pareto.push_back(report.layouts[i].Name());
  }
  v.seed_meets = !report.workloads.empty();  // nothing judged, nothing met
  for (std::size_t w = 0; w < report.workloads.size(); ++w) {
    if (!seed_results[w].meets_target) {
      v.seed_meets = false;
      v.seed_failing.push_back(report.workloads[w].workload.name);
    }
  }
  return v;
}

std::string Probability(double log10_p) {
  if (log10_p == kMinusInf) return "0";
  if (log10_p >= 0) return "1";
  if (log10_p < -300) return absl::StrFormat("1e%.0f", std::floor(log10_p));
  return absl::StrFormat("%.2g", FromLog10(log10_p));
}

std::string Count(std::uint64_t n) {
  if (n < 100000) return absl::StrCat(n);
  return absl::StrFormat("%.3g", static_cast<double>(n));
}

std::string Bytes(std::uint64_t n) {
  const double d = static_cast<double>(n);
  if (n < 1024) return absl::StrCat(n, " B");
  if (d < 1024.0 * 1024) return absl::StrFormat("%.3g KiB", d / 1024);
  if (d < 1024.0 * 1024 * 1024) return absl::StrFormat("%.3g MiB", d / 1024 / 1024);
  return absl::StrFormat("%.3g GiB", d / 1024 / 1024 / 1024);
}

std::string SimCell(const SimEstimate& e) {
  if (e.attempts == 0 && e.p == 0) return "-";
  return absl::StrFormat("%.2g [%.2g,%.2g]", e.p, e.low(), e.high());
}

std::string DemandText(const FieldDemand& f) {
  std::string out = absl::StrFormat("k=%g a=%.3g", f.fixed, f.load);
  for (const FiniteSourceClass& c : f.finite) {
    absl::StrAppendFormat(&out, " N=%d beta=%.3g", c.sources, c.beta);
  }
  return out;
}

std::string JsonNumber(double x) {
  if (!std::isfinite(x)) return "null";
  return absl::StrFormat("%.6g", x);
}

std::string JsonLog10(double log10_p) {
  return log10_p == kMinusInf ? "null" : JsonNumber(log10_p);
}

std::string JsonEstimate(const SimEstimate& e) {
  return absl::StrFormat(R"({"p": %s, "ci": [%s, %s], "attempts": %d, "refused": %d})",
                         JsonNumber(e.p), JsonNumber(e.low()), JsonNumber(e.high()), e.attempts,
                         e.refused);
}

std::string JsonStrings(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  quoted.reserve(items.size());
  for (const std::string& s : items) quoted.push_back(JsonString(s));
  return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
}

}  // namespace

absl::StatusOr<BudgetReport> RunBudget(const BudgetOptions& options, std::ostream* progress) {
  const auto start = std::chrono::steady_clock::now();
  BudgetReport report;
  report.target = options.target;
  report.retry = options.sim.retry;
  report.seed = options.sim.seed;
  report.layouts = options.layouts.empty() ? AllLayouts() : options.layouts;
  std::vector<LayoutResult> seed_results;
  std::vector<LayoutSpec> sample;
  if (options.simulate) {
    for (const LayoutSpec& s : SimulatedLayoutSpecs()) {
      if (std::find(report.layouts.begin(), report.layouts.end(), s) != report.layouts.end()) {
        sample.push_back(s);
      }
    }
  }
  auto stopped = [&] {
    return options.sim.stop != nullptr && options.sim.stop->load(std::memory_order_relaxed);
  };
  for (const Workload& workload : options.workloads) {
    if (stopped()) {
      report.interrupted = true;
      break;
    }
    WorkloadReport w;
    w.workload = workload;
    const auto analytic_start = std::chrono::steady_clock::now();
    const WorkloadDemand demand = DemandOf(workload);
    for (const LayoutSpec& layout : report.layouts) {
      w.analytic.push_back(Analyze(demand, layout, options.sim.retry, options.target));
    }
    seed_results.push_back(Analyze(demand, kSeedLayout, options.sim.retry, options.target));
    report.analytic_seconds += Seconds(analytic_start);
    const auto sim_start = std::chrono::steady_clock::now();
    std::uint64_t events = 0;
    for (const LayoutSpec& layout : sample) {
      absl::StatusOr<SimResult> sim = Simulate(workload, layout, options.sim);
      if (absl::IsCancelled(sim.status())) {
        report.interrupted = true;
        break;
      }
      if (!sim.ok()) {
        return absl::Status(sim.status().code(), absl::StrCat(workload.name, " on ", layout.Name(),
                                                              ": ", sim.status().message()));
      }
      const auto at = std::find(report.layouts.begin(), report.layouts.end(), layout);
      w.agrees.push_back(Agrees(*sim, w.analytic[at - report.layouts.begin()]));
      events += sim->events;
      w.simulated.push_back(*std::move(sim));
    }
    if (report.interrupted) break;  // this workload is incomplete: leave it out
    report.simulation_events += events;
    report.simulation_seconds += Seconds(sim_start);
    if (progress != nullptr) {
      const auto agreeing = std::count(w.agrees.begin(), w.agrees.end(), true);
      *progress << absl::StrFormat(
          "budget: [%zu/%zu] %-26s %zu layouts analysed, %zu simulated (%d events, %d/%zu agree), "
          "%.2f s elapsed\n",
          report.workloads.size() + 1, options.workloads.size(), workload.name,
          report.layouts.size(), sample.size(), events, agreeing, w.agrees.size(), Seconds(start));
    }
    report.workloads.push_back(std::move(w));
  }
  for (const LayoutSpec& layout : report.layouts) {
    std::vector<AttackCost> rows = AttackCosts(layout);
    report.attacks.insert(report.attacks.end(), rows.begin(), rows.end());
  }
  seed_results.resize(report.workloads.size());
  report.verdict = Judge(report, seed_results);
  report.total_seconds = Seconds(start);
  return report;
}

std::string FormatBudgetText(const BudgetReport& report, const std::vector<LayoutSpec>& shown_in) {
  std::vector<LayoutSpec> shown = shown_in;
  if (shown.empty()) {
    for (const LayoutSpec& l : report.layouts) {
      const std::string name = l.Name();
      const std::vector<LayoutSpec> sample = SimulatedLayoutSpecs();
      if (std::find(sample.begin(), sample.end(), l) != sample.end() ||
          std::find(report.verdict.pareto.begin(), report.verdict.pareto.end(), name) !=
              report.verdict.pareto.end()) {
        shown.push_back(l);
      }
    }
  }
  std::string out;
  absl::StrAppendFormat(
      &out, "target: refusal and saturation probability <= %g per arrival%s\n", report.target,
      report.retry.enabled ? absl::StrFormat(" (after %d retries, back-off %gx the hold)",
                                             report.retry.retries, report.retry.backoff_multiple)
                           : "");
  for (const WorkloadReport& w : report.workloads) {
    absl::StrAppendFormat(&out, "\n== %s (%s)%s\n   %s\n", w.workload.name, w.workload.file,
                          w.workload.Estimated() ? "  [inputs include estimates]" : "",
                          w.workload.title);
    const WorkloadDemand d = DemandOf(w.workload);
    absl::StrAppendFormat(&out,
                          "   demand: READ %s | R/W %s | ordinary %s\n"
                          "   (k fixed holders incl. the owner's ref, a Poisson Erlangs, N finite "
                          "sources of beta Erlangs each)\n",
                          DemandText(d.read), DemandText(d.write), DemandText(d.ordinary));
    absl::StrAppendFormat(&out, "   %-8s %-9s %-9s %-9s %-9s %-5s  %-26s %-26s %-26s\n", "layout",
                          "READ", "R/W", "ordinary", "maybe-pin", "meets", "sim READ [99.9% CI]",
                          "sim R/W", "sim ordinary");
    for (const LayoutSpec& l : shown) {
      const auto at = std::find(report.layouts.begin(), report.layouts.end(), l);
      if (at == report.layouts.end()) continue;
      const LayoutResult& r = w.analytic[at - report.layouts.begin()];
      std::string sim_cells = "(not simulated)";
      for (std::size_t s = 0; s < w.simulated.size(); ++s) {
        if (!(w.simulated[s].layout == l)) continue;
        const SimResult& sim = w.simulated[s];
        sim_cells = absl::StrFormat("%-26s %-26s %-26s%s", SimCell(sim.read), SimCell(sim.write),
                                    SimCell(sim.ordinary), w.agrees[s] ? "" : "  DISAGREES");
      }
      absl::StrAppendFormat(
          &out, "   %-8s %-9s %-9s %-9s %-9s %-5s  %s\n", l.Name(),
          Probability(r.read_refusal_log10), Probability(r.write_refusal_log10),
          Probability(r.ordinary_saturation_log10),
          r.false_maybe_pinned_log10 ? Probability(*r.false_maybe_pinned_log10) : "-",
          r.meets_target ? "yes" : "no", sim_cells);
    }
  }
  out += "\n== attacker's price to fill a field (no mitigation; every row uses estimates)\n";
  absl::StrAppendFormat(&out, "   %-8s %-5s %-9s %10s %12s %12s %7s %9s\n", "layout", "att.",
                        "field", "units", "syscalls", "memlock", "kernel", "processes");
  for (const AttackCost& a : report.attacks) {
    if (a.mitigation != Mitigation::kNone ||
        std::find(shown.begin(), shown.end(), a.layout) == shown.end()) {
      continue;
    }
    absl::StrAppendFormat(&out, "   %-8s %-5s %-9s %10s %12s %12s %10s %6s\n", a.layout.Name(),
                          a.attack, a.field, Count(a.units), Count(a.syscalls),
                          Bytes(a.memlock_bytes), Bytes(a.kernel_bytes), Count(a.processes));
  }
  out += "\n== mitigations on the seed layout 4/4/24 (syscalls / memlock / users; - = blocked)\n";
  for (const AttackCost& a : report.attacks) {
    if (!(a.layout == kSeedLayout)) continue;
    absl::StrAppendFormat(
        &out, "   %-5s %-9s %-24s %s\n", a.attack, a.field, MitigationName(a.mitigation),
        a.blocked
            ? "- (blocked)"
            : absl::StrCat(Count(a.syscalls), " syscalls, ", Bytes(a.memlock_bytes), " memlock, ",
                           Count(a.users), " user(s)", a.applies ? "" : " (does not apply)"));
  }
  const Verdict& v = report.verdict;
  absl::StrAppendFormat(
      &out, "\n== verdict over %zu workloads and %zu layouts%s\n", report.workloads.size(),
      report.layouts.size(),
      report.interrupted ? " (INTERRUPTED: the remaining workloads were not run)" : "");
  absl::StrAppendFormat(&out, "   meeting the target for every workload (%zu): %s\n",
                        v.meeting.size(),
                        v.meeting.empty() ? "none" : absl::StrJoin(v.meeting, " "));
  absl::StrAppendFormat(&out, "   Pareto frontier, risk vs attacker's price (%zu): %s\n",
                        v.pareto.size(), absl::StrJoin(v.pareto, " "));
  absl::StrAppendFormat(
      &out, "   seed 4/4/24: %s\n",
      v.seed_meets ? "meets the target"
                   : absl::StrCat("misses the target on ", absl::StrJoin(v.seed_failing, ", ")));
  std::size_t agree = 0, simulated = 0;
  for (const WorkloadReport& w : report.workloads) {
    simulated += w.agrees.size();
    agree += std::count(w.agrees.begin(), w.agrees.end(), true);
  }
  absl::StrAppendFormat(&out,
                        "   simulation vs formula: %zu of %zu (workload, layout) pairs agree "
                        "within the 99.9%% interval (seed %d)\n",
                        agree, simulated, report.seed);
  absl::StrAppendFormat(&out,
                        "\ntiming: %.3f s analytic, %.3f s simulation (%d events), %.3f s in all\n",
                        report.analytic_seconds, report.simulation_seconds,
                        report.simulation_events, report.total_seconds);
  return out;
}

std::string FormatBudgetJson(const BudgetReport& report, const std::string& run) {
  std::vector<std::string> layouts;
  for (const LayoutSpec& l : report.layouts) layouts.push_back(l.Name());
  std::string out = absl::StrFormat(
      "{\"kind\": \"budget\", \"run\": %s, \"target\": %s, \"seed\": %d, \"interrupted\": %s,\n"
      " \"retry\": {\"enabled\": %s, \"retries\": %d, \"backoff_multiple\": %s},\n"
      " \"layouts\": %s,\n \"workloads\": [",
      run, JsonNumber(report.target), report.seed, report.interrupted ? "true" : "false",
      report.retry.enabled ? "true" : "false", report.retry.retries,
      JsonNumber(report.retry.backoff_multiple), JsonStrings(layouts));
  for (std::size_t wi = 0; wi < report.workloads.size(); ++wi) {
    const WorkloadReport& w = report.workloads[wi];
    std::vector<std::string> inputs;
    for (const HolderClass& c : w.workload.classes) {
      const std::pair<const char*, const SourcedNumber*> numbers[] = {
          {"count", &c.count},
          {"rate", &c.rate},
          {"hold_mean", &c.hold_mean},
          {"multiplicity", &c.multiplicity},
          {"sources", &c.sources}};
      for (const auto& [key, n] : numbers) {
        if (!n->present) continue;
        inputs.push_back(absl::StrFormat(
            R"({"class": %s, "key": "%s", "value": %s, "line": %d, "estimated": %s, "source": %s})",
            JsonString(c.name), key, JsonNumber(n->value), n->provenance.line,
            n->provenance.estimated ? "true" : "false",
            n->provenance.estimated ? "null" : JsonString(n->provenance.source)));
      }
    }
    absl::StrAppendFormat(&out,
                          "%s\n  {\"name\": %s, \"file\": %s, \"title\": %s, \"estimated\": %s,\n"
                          "   \"inputs\": [%s],\n   \"results\": [",
                          wi ? "," : "", JsonString(w.workload.name), JsonString(w.workload.file),
                          JsonString(w.workload.title), w.workload.Estimated() ? "true" : "false",
                          absl::StrJoin(inputs, ",\n     "));
    for (std::size_t i = 0; i < w.analytic.size(); ++i) {
      const LayoutResult& r = w.analytic[i];
      std::string simulated = "null";
      for (std::size_t s = 0; s < w.simulated.size(); ++s) {
        if (!(w.simulated[s].layout == r.layout)) continue;
        const SimResult& sim = w.simulated[s];
        simulated = absl::StrFormat(
            R"({"read_refusal": %s, "write_refusal": %s, "ordinary_saturation": %s, "false_maybe_pinned": %s, "agrees": %s, "events": %d, "seed": %d})",
            JsonEstimate(sim.read), JsonEstimate(sim.write), JsonEstimate(sim.ordinary),
            sim.false_maybe_pinned ? JsonEstimate(*sim.false_maybe_pinned) : "null",
            w.agrees[s] ? "true" : "false", sim.events, sim.seed);
      }
      absl::StrAppendFormat(
          &out,
          "%s\n    {\"layout\": %s, \"read_refusal\": %s, \"write_refusal\": %s, "
          "\"ordinary_saturation\": %s, \"false_maybe_pinned\": %s, \"meets_target\": %s, "
          "\"read_refusal_log10\": %s, \"write_refusal_log10\": %s, "
          "\"ordinary_saturation_log10\": %s, \"false_maybe_pinned_log10\": %s, "
          "\"simulated\": %s}",
          i ? "," : "", JsonString(r.layout.Name()), JsonNumber(FromLog10(r.read_refusal_log10)),
          JsonNumber(FromLog10(r.write_refusal_log10)),
          JsonNumber(FromLog10(r.ordinary_saturation_log10)),
          r.false_maybe_pinned_log10 ? JsonNumber(FromLog10(*r.false_maybe_pinned_log10)) : "null",
          r.meets_target ? "true" : "false", JsonLog10(r.read_refusal_log10),
          JsonLog10(r.write_refusal_log10), JsonLog10(r.ordinary_saturation_log10),
          r.false_maybe_pinned_log10 ? JsonLog10(*r.false_maybe_pinned_log10) : "null", simulated);
    }
    out += "]}";
  }
  out += "],\n \"attacks\": [";
  for (std::size_t i = 0; i < report.attacks.size(); ++i) {
    const AttackCost& a = report.attacks[i];
    auto cost = [&](std::uint64_t n) { return a.blocked ? std::string("null") : absl::StrCat(n); };
    absl::StrAppendFormat(
        &out,
        "%s\n  {\"attack\": %s, \"field\": %s, \"layout\": %s, \"mitigation\": %s, "
        "\"syscalls\": %s, \"memlock_bytes\": %s, \"kernel_bytes\": %s, \"estimated\": %s, "
        "\"units\": %d, \"users\": %s, \"processes\": %s, \"applies\": %s, \"blocked\": %s}",
        i ? "," : "", JsonString(a.attack), JsonString(a.field), JsonString(a.layout.Name()),
        JsonString(MitigationName(a.mitigation)), cost(a.syscalls), cost(a.memlock_bytes),
        cost(a.kernel_bytes), a.estimated ? "true" : "false", a.units, cost(a.users),
        cost(a.processes), a.applies ? "true" : "false", a.blocked ? "true" : "false");
  }
  out += "],\n \"attack_descriptions\": {";
  std::map<std::string, std::string> how;
  for (const AttackCost& a : report.attacks) how[a.attack] = a.how;
  std::vector<std::string> hows;
  hows.reserve(how.size());
  for (const auto& [attack, text] : how) {
    hows.push_back(absl::StrCat(JsonString(attack), ": ", JsonString(text)));
  }
  out += absl::StrJoin(hows, ", ");
  out += "},\n \"constants\": [";
  std::vector<std::string> constants;
  for (const KernelConstant& c : KernelConstants()) {
    constants.push_back(absl::StrFormat(
        R"({"name": %s, "value": %s, "source": %s, "estimated": %s})", JsonString(c.name),
        JsonNumber(c.value), JsonString(c.source), c.estimated ? "true" : "false"));
  }
  out += absl::StrJoin(constants, ",\n   ");
  const Verdict& v = report.verdict;
  absl::StrAppendFormat(
      &out,
      "],\n \"verdict\": {\"meeting\": %s, \"pareto\": %s,\n   \"seed\": {\"layout\": \"4/4/24\", "
      "\"meets\": %s, \"failing_workloads\": %s}},\n"
      " \"timing\": {\"analytic_seconds\": %s, \"simulation_seconds\": %s, \"simulation_events\": "
      "%d, \"total_seconds\": %s}}\n",
      JsonStrings(v.meeting), JsonStrings(v.pareto), v.seed_meets ? "true" : "false",
      JsonStrings(v.seed_failing), JsonNumber(report.analytic_seconds),
      JsonNumber(report.simulation_seconds), report.simulation_events,
      JsonNumber(report.total_seconds));
  return out;
}

}  // namespace pinsplit::budget
