// SPDX-License-Identifier: MIT
#include "fidelity.h"

#include <algorithm>
#include <map>
#include <ostream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "pinsplit/mm/mm_replay.h"

namespace pinsplit::host {
namespace {

using mm::MmOp;
using mm::MmOpKind;

struct Counts {
  std::uint64_t fork = 0, fault = 0, unshare = 0;
  friend bool operator==(const Counts&, const Counts&) = default;
  std::string Text() const {
    return absl::StrFormat("fork %d fault %d unshare %d", fork, fault, unshare);
  }
  Counts Minus(const Counts& o) const {
    return {fork - o.fork, fault - o.fault, unshare - o.unshare};
  }
};

Counts ModelCounts(const mm::MmStats& s) {
  return {s.copies_at_fork, s.copies_at_fault, s.unshares};
}
Counts HostCounts(const HostStats& s) { return {s.copies_at_fork, s.copies_at_fault, s.unshares}; }

// One side's view after a step, in words both sides share.
struct View {
  std::string got;
  Counts delta;
  // "A@0" -> "mapcount 2 shared" / "mapcount 1 exclusive"
  std::map<std::string, std::string> facts;
  // the partition of mappings and pins by page
  std::set<std::vector<std::string>> sharing;
  // the page label of each member, for the report
  std::map<std::string, std::string> page_of;
};

std::string FactText(int mapcount, bool exclusive) {
  return absl::StrCat("mapcount ", mapcount, exclusive ? " exclusive" : " shared");
}

std::set<std::vector<std::string>> Partition(const std::map<std::string, std::string>& page_of) {
  std::map<std::string, std::vector<std::string>> groups;
  for (const auto& [member, page] : page_of) groups[page].push_back(member);
  std::set<std::vector<std::string>> out;
  for (auto& [page, members] : groups) {
    std::sort(members.begin(), members.end());
    out.insert(members);
  }
  return out;
}

View ModelView(const mm::MmSession& session, const std::vector<std::string>& names,
               const std::vector<std::string>& pins) {
  View v;
  const mm::MmModel& model = session.model();
  for (const std::string& name : names) {
    std::optional<mm::ProcessId> p = session.process_id(name);
    if (!p || !model.process_alive(*p)) continue;
    for (mm::Addr a = 0; a < mm::kAddressSpace; ++a) {
      const mm::PageId page = model.page_at(*p, a);
      if (page == mm::kNoPage) continue;
      const std::string key = absl::StrCat(name, "@", a);
      v.facts[key] = FactText(model.mapcount(page), model.exclusive(page));
      v.page_of[key] = absl::StrCat("page ", page);
    }
  }
  for (const std::string& pin : pins) {
    std::optional<mm::PinId> id = session.pin_id(pin);
    if (!id || !model.pin_live(*id)) continue;
    v.page_of[absl::StrCat("pin ", pin)] = absl::StrCat("page ", model.pin_page(*id));
  }
  v.sharing = Partition(v.page_of);
  return v;
}

View HostView(const HostSession& session) {
  View v;
  for (const auto& [name, pages] : session.snapshot().processes) {
    for (const auto& [a, f] : pages) {
      const std::string key = absl::StrCat(name, "@", a);
      v.facts[key] = FactText(f.mapcount, f.exclusive);
      v.page_of[key] = absl::StrFormat("pfn %#x", f.pfn);
    }
  }
  for (const auto& [pin, pfn] : session.snapshot().pins) {
    v.page_of[absl::StrCat("pin ", pin)] = absl::StrFormat("pfn %#x", pfn);
  }
  v.sharing = Partition(v.page_of);
  return v;
}

// Everything a side knows after the step, for the report.
std::string Describe(const View& v) {
  std::vector<std::string> parts;
  parts.push_back(absl::StrCat("got ", v.got));
  parts.push_back(absl::StrCat("copies this step: ", v.delta.Text()));
  for (const auto& [member, page] : v.page_of) {
    auto f = v.facts.find(member);
    parts.push_back(absl::StrCat(member, ": ", page, f != v.facts.end() ? " " : "",
                                 f != v.facts.end() ? f->second : ""));
  }
  return absl::StrJoin(parts, "; ");
}

// The first aspect the two views differ in, or nullopt.
std::optional<std::string> Differs(const View& model, const View& host) {
  if (model.got != host.got) return "result";
  if (!(model.delta == host.delta)) return "copy decisions";
  if (model.facts != host.facts) return "page facts (mapcount, anon-exclusive)";
  if (model.sharing != host.sharing) return "which mappings and pins share a page";
  return std::nullopt;
}

// One run of the scenario on both sides.
absl::StatusOr<ScenarioFidelity> CompareOnce(const std::string& scenario, const std::string& text,
                                             const FidelityOptions& options) {
  absl::StatusOr<mm::MmScript> script = mm::ParseMmScript(text);
  if (!script.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(scenario, ": ", script.status().message()));
  }
  ScenarioFidelity result;
  result.scenario = scenario;
  mm::MmOptions model_options;
  model_options.policy = options.model_policy;
  absl::StatusOr<std::unique_ptr<mm::MmSession>> model = mm::MmSession::Create(model_options);
  if (!model.ok()) return model.status();
  absl::StatusOr<std::unique_ptr<HostSession>> host = HostSession::Create(options.host);
  if (!host.ok()) return host.status();
  if (absl::Status s = (*host)->Plan(*script); !s.ok()) return s;

  std::vector<std::string> names, pins;
  const auto note = [&](const FidelityDifference& d) {
    ++result.differing_steps;
    if (!result.first_difference) result.first_difference = d;
  };
  for (const MmOp& op : script->ops) {
    if (op.kind == MmOpKind::kSpawn) names.push_back(op.process);
    if (op.kind == MmOpKind::kFork) names.push_back(op.name);
    if (op.kind == MmOpKind::kPin) pins.push_back(op.name);
    const Counts model_before = ModelCounts((*model)->result().stats);
    const Counts host_before = HostCounts((*host)->stats());
    const std::uint64_t unexplained_before = (*host)->stats().unexplained_pfn_changes;
    View mv, hv;
    if (absl::Status s = (*model)->Step(op, &mv.got); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(scenario, ": the model refuses it: ", s.message()));
    }
    HostStep step;
    if (absl::Status s = (*host)->Step(op, &step); !s.ok()) {
      if (absl::IsCancelled(s)) return s;
      if (absl::IsUnimplemented(s)) {
        result.skipped = std::string(s.message());
        result.stand_ins = (*host)->stand_ins();
        return result;
      }
      note(FidelityDifference{op.line, mm::Format(op), "host failed", "ran",
                              std::string(s.message())});
      break;
    }
    ++result.steps;
    hv.got = step.got;
    mv.delta = ModelCounts((*model)->result().stats).Minus(model_before);
    hv.delta = HostCounts((*host)->stats()).Minus(host_before);
    View m = ModelView(**model, names, pins);
    View h = HostView(**host);
    m.got = mv.got;
    m.delta = mv.delta;
    h.got = hv.got;
    h.delta = hv.delta;
    std::optional<std::string> what = Differs(m, h);
    if (!what && (*host)->stats().unexplained_pfn_changes != unexplained_before) {
      what = "a PFN changed that the step does not explain";
    }
    if (options.trace != nullptr) {
      *options.trace << absl::StrFormat("%4d  %-36s model %-8s host %-8s%s\n", op.line,
                                        mm::Format(op), m.got, h.got, what ? "  DIFFERENT" : "");
      if (step.stand_in) *options.trace << "        stand-in: " << *step.stand_in << "\n";
      for (const std::string& e : step.events) *options.trace << "        host: " << e << "\n";
      if (what) {
        *options.trace << "        model: " << Describe(m) << "\n        host:  " << Describe(h)
                       << "\n";
      }
    }
    if (what) {
      const auto total = [](const Counts& c) { return c.fork + c.fault + c.unshare; };
      note(FidelityDifference{op.line, mm::Format(op), *what, Describe(m), Describe(h),
                              *what == "copy decisions" && total(h.delta) > total(m.delta)});
    }
  }
  const mm::MmReplayResult& final_model = (*model)->Finish();
  const Counts mc = ModelCounts(final_model.stats);
  const Counts hc = HostCounts((*host)->stats());
  result.model_counts = mc.Text();
  result.host_counts = hc.Text();
  result.stand_ins = (*host)->stand_ins();
  const bool model_pass = final_model.violations.empty() && final_model.failures.empty();
  const bool host_pass = (*host)->failures().empty();
  if (!(mc == hc) || model_pass != host_pass) {
    const int last = script->ops.empty() ? 0 : script->ops.back().line;
    note(FidelityDifference{last, "(end)", "final accounting",
                            absl::StrCat(mc.Text(), "; verdict ", model_pass ? "pass" : "fail"),
                            absl::StrCat(hc.Text(), "; verdict ", host_pass ? "pass" : "fail")});
  }
  if (absl::Status s = (*host)->Shutdown(); !s.ok()) {
    return absl::InternalError(absl::StrCat(scenario, ": releasing the host run: ", s.message()));
  }
  result.agree = result.differing_steps == 0;
  return result;
}

}  // namespace

absl::StatusOr<ScenarioFidelity> CompareOnHost(const std::string& scenario, const std::string& text,
                                               const FidelityOptions& options) {
  absl::StatusOr<ScenarioFidelity> first = CompareOnce(scenario, text, options);
  if (!first.ok() || first->agree || first->skipped || !first->first_difference ||
      !first->first_difference->host_copied_more) {
    return first;
  }
  for (int rerun = 1; rerun <= 2; ++rerun) {
    absl::StatusOr<ScenarioFidelity> again = CompareOnce(scenario, text, options);
    if (!again.ok()) return again;
    if (again->agree) {
      again->transient_difference = first->first_difference;
      again->runs = rerun + 1;
      return again;
    }
  }
  first->runs = 3;
  return first;
}

}  // namespace pinsplit::host
