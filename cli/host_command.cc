// SPDX-License-Identifier: MIT
#include "host_command.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "command_line.h"
#include "false_pin.h"
#include "fidelity.h"
#include "host_check.h"
#include "host_session.h"
#include "pinsplit/json_string.h"
#include "pinsplit/mm/policy.h"
#include "pinsplit/script_lexer.h"
#include "random_script.h"
#include "run_info.h"
#include "subcommand_io.h"

ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(std::string, seed);  // defined beside budget's flags
ABSL_FLAG(bool, stand_ins, true,
          "host: run pins the backend has no faithful mechanism for (read pins, short-term write "
          "pins) through the io_uring long-term R/W pin, marked as stand-ins; false refuses them "
          "(exit 2 naming the operation)");
ABSL_FLAG(bool, fuse, true,
          "host: take short-term and read pins through the FUSE direct-I/O daemon where the "
          "script's use of the pin fits one (docs/host.md); false: the io_uring stand-in");
ABSL_FLAG(int, host_timeout_ms, 10000, "host: watchdog for each agent reply, in milliseconds");
ABSL_FLAG(bool, false_pin, false, "fidelity: also run the false-pin experiment (host false-pin)");
ABSL_FLAG(
    int, random, 0,
    "fidelity: also run N random scripts (host/random_script.h), seeds --seed, --seed+1, ...");
ABSL_FLAG(int, max_refs, 2048, "host false-pin: the largest number of extra references tried");
ABSL_FLAG(std::string, model, "anon-exclusive",
          "fidelity: the mm model's policy each kernel step is compared with (mapcount, refcount, "
          "anon-exclusive, split, ideal)");
ABSL_FLAG(bool, gup_test, true,
          "host: take long-term R/O pins (and read pins FUSE cannot serve) through "
          "/sys/kernel/debug/gup_test where the kernel has a usable one (docs/host.md); false: "
          "the stand-ins");

namespace pinsplit {
namespace {

host::HostOptions Options() {
  host::HostOptions o;
  o.stand_ins = absl::GetFlag(FLAGS_stand_ins);
  o.fuse = absl::GetFlag(FLAGS_fuse);
  o.timeout_ms = absl::GetFlag(FLAGS_host_timeout_ms);
  o.gup_test = absl::GetFlag(FLAGS_gup_test);
  return o;
}

std::string FactsLine(const host::HostSnapshot& snapshot) {
  std::vector<std::string> parts;
  for (const auto& [name, pages] : snapshot.processes) {
    for (const auto& [a, f] : pages) {
      parts.push_back(absl::StrFormat("%s@%d pfn %#x map %d %s", name, a, f.pfn, f.mapcount,
                                      f.exclusive ? "excl" : "shared"));
    }
  }
  for (const auto& [pin, pfn] : snapshot.pins)
    parts.push_back(absl::StrFormat("pin %s pfn %#x", pin, pfn));
  return absl::StrJoin(parts, " | ");
}

// Runs a whole script on the kernel; the trace (when given) as `replay` prints it.
struct HostRun {
  absl::Status status;
  host::HostStats stats;
  std::vector<std::string> failures;
  std::vector<std::string> stand_ins;
  int steps = 0;
};

HostRun RunOnHost(const mm::MmScript& script, std::ostream* trace) {
  HostRun run;
  absl::StatusOr<std::unique_ptr<host::HostSession>> session = host::HostSession::Create(Options());
  if (!session.ok()) {
    run.status = session.status();
    return run;
  }
  run.status = (*session)->Plan(script);
  for (const mm::MmOp& op : script.ops) {
    if (!run.status.ok()) break;
    host::HostStep step;
    run.status = (*session)->Step(op, &step);
    if (!run.status.ok()) break;
    ++run.steps;
    if (trace != nullptr) {
      *trace << absl::StrFormat("%4d  %-36s -> %s%s\n", op.line, mm::Format(op), step.got,
                                step.faulted ? "  (faulted)" : "");
      if (step.stand_in) *trace << "        STAND-IN: " << *step.stand_in << "\n";
      for (const std::string& e : step.events) *trace << "        " << e << "\n";
      const std::string facts = FactsLine((*session)->snapshot());
      if (!facts.empty()) *trace << "        " << facts << "\n";
      if (op.result && *op.result != step.got) {
        *trace << "        FAIL: expected " << *op.result << "\n";
      }
    }
  }
  run.stats = (*session)->stats();
  run.failures = (*session)->failures();
  run.stand_ins = (*session)->stand_ins();
  if (absl::Status s = (*session)->Shutdown(); !s.ok() && run.status.ok()) run.status = s;
  return run;
}

absl::Status Usable() { return host::BackendUsable(host::ProbeHost()); }

// Where fidelity's and false-pin's human-readable lines go: standard output, unless the JSON
// goes there (--json without --output, or --output=-), which must stay one JSON document.
std::ostream& HumanOutput(const std::string& output) {
  const bool json_on_stdout = output == "-" || (output.empty() && absl::GetFlag(FLAGS_json));
  return json_on_stdout ? std::cerr : std::cout;
}

// What gup_test gives this run, for fidelity's first line and its report.
std::string GupTestLine(const host::HostCapabilities& caps) {
  if (!absl::GetFlag(FLAGS_gup_test)) {
    return "gup_test: not used (--gup_test=false): `pin read longterm` runs on a stand-in";
  }
  if (!caps.gup_test) {
    return absl::StrCat("gup_test: not usable here (", caps.gup_test_detail,
                        "): `pin read longterm` runs on a stand-in");
  }
  return "gup_test: usable: `pin read longterm` is a real long-term R/O pin (one held at a time)";
}

std::string GupTestJson(const host::HostCapabilities& caps) {
  return absl::StrFormat("{\"usable\": %s, \"used\": %s, \"detail\": %s}",
                         caps.gup_test ? "true" : "false",
                         caps.gup_test && absl::GetFlag(FLAGS_gup_test) ? "true" : "false",
                         JsonString(caps.gup_test_detail));
}

}  // namespace

int HostReplayCommand(const std::string& path, const std::string& text, bool quiet) {
  absl::StatusOr<mm::MmScript> script = mm::ParseMmScript(text);
  if (!script.ok()) {
    std::cerr << path << ": " << script.status().message() << "\n";
    return kExitBadInput;
  }
  if (absl::Status s = Usable(); !s.ok()) {
    std::cerr << path << ": the host backend cannot run here: " << s.message() << "\n";
    return kExitBadInput;
  }
  host::InstallHostStopHandlers();
  std::cout << "replay " << path << " on the running kernel (policy host)\n";
  HostRun run = RunOnHost(*script, quiet ? nullptr : &std::cout);
  host::RestoreHostStopHandlers();
  if (!run.status.ok()) {
    std::cerr << path << ": " << run.status.message() << "\n";
    return kExitBadInput;
  }
  for (const std::string& f : run.failures) std::cerr << path << ": " << f << "\n";
  for (const std::string& s : run.stand_ins) std::cout << "stand-in: " << s << "\n";
  std::cout << absl::StrFormat(
      "%d steps on the kernel: fork-copy %d fault-copy %d unshare %d%s, %d stand-in(s), %d "
      "assertion(s) failed: %s\n",
      run.steps, run.stats.copies_at_fork, run.stats.copies_at_fault, run.stats.unshares,
      run.stats.unexplained_pfn_changes > 0
          ? absl::StrCat(", ", run.stats.unexplained_pfn_changes, " unexplained PFN change(s)")
          : "",
      run.stand_ins.size(), run.failures.size(), run.failures.empty() ? "PASS" : "FAIL");
  return run.failures.empty() ? kExitOk : kExitViolation;
}

std::optional<HostCompareRow> HostCompareRowFor(const mm::MmScript& script) {
  if (!Usable().ok()) return std::nullopt;
  HostRun run = RunOnHost(script, nullptr);
  HostCompareRow row;
  if (!run.status.ok()) {
    row.notes.push_back(absl::StrCat("host: not run to the end: ", run.status.message()));
    return row;
  }
  // No oracle watches the kernel: its violations column counts its failed `=>` assertions; it
  // has no counter to refuse a pin or to answer "maybe pinned" falsely where one could see it.
  row.table_line = absl::StrFormat("%-15s %-13s %10d %10d %10d %8d %8s %8s %8s\n", "host", "kernel",
                                   run.failures.size(), run.stats.copies_at_fork,
                                   run.stats.copies_at_fault, run.stats.unshares, "0", "-", "-");
  // A top-level "host" object beside "policies" (docs/results-format.md): the kernel has no
  // counter to ask, so the policies' refusal and false "maybe pinned" columns do not apply.
  row.json_item = absl::StrFormat(
      "{\"counter\": \"kernel\", \"failed_assertions\": %d, \"copies_at_fork\": %d, "
      "\"copies_at_fault\": %d, \"unshares\": %d, \"first_failure\": %s, \"stand_ins\": [%s]}",
      run.failures.size(), run.stats.copies_at_fork, run.stats.copies_at_fault, run.stats.unshares,
      run.failures.empty() ? "null" : JsonString(run.failures[0]),
      absl::StrJoin(run.stand_ins, ", ",
                    [](std::string* out, const std::string& s) { out->append(JsonString(s)); }));
  for (const std::string& s : run.stand_ins)
    row.notes.push_back(absl::StrCat("host stand-in: ", s));
  return row;
}

std::string WithHostRow(std::string out, const std::optional<HostCompareRow>& row, bool json) {
  if (!row || row->table_line.empty()) {
    if (row && !json) {
      for (const std::string& n : row->notes) absl::StrAppend(&out, n, "\n");
    }
    return out;
  }
  if (json) {
    const std::size_t end = out.rfind('}');
    if (end != std::string::npos) out.insert(end, absl::StrCat(", \"host\": ", row->json_item));
    return out;
  }
  absl::StrAppend(&out, row->table_line);
  for (const std::string& n : row->notes) absl::StrAppend(&out, n, "\n");
  return out;
}

int HostCheckCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) ExitBadInput("host-check takes no arguments");
  const host::HostCapabilities caps = host::ProbeHost();
  NoteFlagsThatDoNotApply({"impl", "policy", "quiet", "json", "target", "output"}, "host-check");
  const absl::Status usable = host::BackendUsable(caps);
  return WriteOutputOrExit(
      "-",
      absl::StrCat(host::FormatCapabilities(caps), "backend: ",
                   usable.ok() ? "can run" : absl::StrCat("cannot run: ", usable.message()), "\n"),
      usable.ok() ? kExitOk : kExitViolation);
}

namespace {

std::vector<std::string> ScenarioFiles(const std::vector<std::string>& args, bool random) {
  std::vector<std::string> roots(args.begin() + 1, args.end());
  if (roots.empty() && random) return {};
  if (roots.empty()) roots.push_back("scenarios/mm");
  std::vector<std::string> files;
  for (const std::string& root : roots) {
    std::error_code ec;
    if (std::filesystem::is_directory(root, ec)) {
      std::vector<std::string> found;
      for (const auto& e : std::filesystem::recursive_directory_iterator(root, ec)) {
        if (e.is_regular_file() && e.path().extension() == ".ops") found.push_back(e.path());
      }
      if (ec) ExitBadInput(absl::StrCat("cannot list '", root, "': ", ec.message()));
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(root);  // read before the run: ReadInputOrExit says why it cannot be
    }
  }
  if (files.empty()) ExitBadInput("no .ops files to compare");
  return files;
}

std::string Null(const std::optional<std::string>& s) { return s ? JsonString(*s) : "null"; }

std::string DifferenceJson(const std::optional<host::FidelityDifference>& d) {
  if (!d) return "null";
  return absl::StrFormat("{\"line\": %d, \"op\": %s, \"what\": %s, \"model\": %s, \"host\": %s}",
                         d->line, JsonString(d->op), JsonString(d->what), JsonString(d->model),
                         JsonString(d->host));
}

std::string ScenarioJson(const host::ScenarioFidelity& s) {
  return absl::StrFormat(
      "{\"scenario\": %s, \"agree\": %s, \"skipped\": %s, \"stand_ins\": [%s], "
      "\"first_difference\": %s, \"transient_difference\": %s, \"runs\": %d, \"steps\": %d, "
      "\"differing_steps\": %d, \"model\": %s, \"host\": %s}",
      JsonString(s.scenario), s.agree ? "true" : "false", Null(s.skipped),
      absl::StrJoin(s.stand_ins, ", ",
                    [](std::string* out, const std::string& x) { out->append(JsonString(x)); }),
      DifferenceJson(s.first_difference), DifferenceJson(s.transient_difference), s.runs, s.steps,
      s.differing_steps, JsonString(s.model_counts), JsonString(s.host_counts));
}

}  // namespace

int FidelityCommand(const std::vector<std::string>& args) {
  const std::string output = absl::GetFlag(FLAGS_output);
  CheckOutputOrExit(output);
  NoteFlagsThatDoNotApply({"impl", "policy", "quiet", "target"}, "fidelity");
  if (FlagWasSet("policy")) std::cerr << "note: fidelity's model policy is --model=NAME\n";
  const std::string model = absl::GetFlag(FLAGS_model);
  if (const std::vector<std::string> known = mm::KnownPolicies();
      std::find(known.begin(), known.end(), model) == known.end()) {
    ExitBadInput(absl::StrCat("--model takes a policy (", absl::StrJoin(known, ", "), "), not ",
                              Quoted(model)));
  }
  const int random = absl::GetFlag(FLAGS_random);
  if (random < 0) ExitBadInput(absl::StrCat("--random takes a count, 0 or more, not ", random));
  std::uint64_t seed = 0;
  if (const std::string text = absl::GetFlag(FLAGS_seed); !text.empty()) {
    if (!absl::SimpleAtoi(text, &seed)) {
      ExitBadInput(absl::StrCat("--seed takes a number from 0 to 2^64-1, not ", Quoted(text)));
    }
  } else {
    seed = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  }
  // Files first, then the random scripts, named by their seed (`--random=1 --seed=S` replays one).
  // Every file is read before the first run, so a bad path costs nothing.
  struct Scenario {
    std::string name;
    std::string text;
    bool generated = false;  // a random script: printed on a difference, to replay it
  };
  std::vector<Scenario> scenarios;
  for (const std::string& f : ScenarioFiles(args, random > 0)) {
    std::string text = ReadInputOrExit(f);
    WarnIfNoOperations(f, text, "nothing to compare");
    scenarios.push_back({f, std::move(text), false});
  }
  for (int i = 0; i < random; ++i) {
    const std::uint64_t s = seed + static_cast<std::uint64_t>(i);
    scenarios.push_back({absl::StrCat("random:", s), host::RandomMmScript(s), true});
  }
  if (random > 0)
    std::cerr << "random scripts: seeds " << seed << " .. " << seed + random - 1 << "\n";
  const host::HostCapabilities caps = host::ProbeHost();
  const absl::Status usable = host::BackendUsable(caps);
  std::optional<std::string> skipped;
  if (!usable.ok()) {
    skipped = std::string(usable.message());
    HumanOutput(output) << "skipped: " << *skipped << "\n";
  } else {
    HumanOutput(output) << "model: " << model << "\n" << GupTestLine(caps) << "\n";
  }
  host::InstallHostStopHandlers();
  host::FidelityOptions options;
  options.host = Options();
  options.model_policy = model;
  std::vector<host::ScenarioFidelity> results;
  int agree = 0, disagree = 0, skips = 0, bad = 0, transient = 0;
  bool interrupted = false;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    const Scenario& scenario = scenarios[i];
    host::ScenarioFidelity r;
    r.scenario = scenario.name;
    if (skipped) {
      r.skipped = skipped;
    } else if (host::HostStopRequested()) {
      interrupted = true;
      break;
    } else {
      absl::StatusOr<host::ScenarioFidelity> got =
          host::CompareOnHost(scenario.name, scenario.text, options);
      if (absl::IsCancelled(got.status())) {
        interrupted = true;
        break;
      }
      if (!got.ok()) {
        std::cerr << got.status().message() << "\n";
        if (absl::IsInvalidArgument(got.status())) {
          ++bad;
          continue;
        }
        r.skipped = absl::StrCat("host run failed: ", got.status().message());
      } else {
        r = *std::move(got);
      }
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string verdict =
        r.skipped ? absl::StrCat("skipped: ", *r.skipped)
        : r.agree ? "agree"
                  : absl::StrCat("DIFFER at line ", r.first_difference->line, " (",
                                 r.first_difference->op, "): ", r.first_difference->what);
    std::cerr << absl::StrFormat("[%d/%d %.1fs] %s: %s\n", i + 1, scenarios.size(), elapsed,
                                 r.scenario, verdict);
    if (!r.skipped && !r.agree) {
      std::cerr << "    model: " << r.first_difference->model << "\n"
                << "    host:  " << r.first_difference->host << "\n";
      if (scenario.generated) std::cerr << scenario.text;  // the readable op script to replay
    }
    (r.skipped ? skips : r.agree ? agree : disagree) += 1;
    transient += r.transient_difference ? 1 : 0;
    results.push_back(std::move(r));
  }
  std::string false_pin = "null";
  if (absl::GetFlag(FLAGS_false_pin) && !skipped && !interrupted) {
    absl::StatusOr<host::FalsePinResult> fp =
        host::MeasureFalsePin(options.host, absl::GetFlag(FLAGS_max_refs), &std::cerr);
    if (fp.ok()) {
      false_pin = host::FalsePinJson(*fp);
    } else {
      std::cerr << "false-pin: " << fp.status().message() << "\n";
      interrupted = interrupted || absl::IsCancelled(fp.status());
    }
  }
  host::RestoreHostStopHandlers();
  std::vector<std::string> items;
  items.reserve(results.size());
  for (const host::ScenarioFidelity& r : results) items.push_back(ScenarioJson(r));
  const std::string json = absl::StrFormat(
      "{\"kind\": \"fidelity\", \"run\": %s, \"kernel\": %s, \"skipped\": %s, "
      "\"model_policy\": %s, \"gup_test\": %s, \"interrupted\": %s, \"random\": %d, "
      "\"seed\": %s, "
      "\"scenarios\": [\n  %s\n], "
      "\"summary\": {\"agree\": %d, \"disagree\": %d, \"skipped\": %d, \"total\": %d, "
      "\"transient\": %d}, \"false_pin\": %s}\n",
      RunInfoJson(), JsonString(caps.kernel), Null(skipped), JsonString(options.model_policy),
      GupTestJson(caps), interrupted ? "true" : "false", random,
      random > 0 ? absl::StrCat(seed) : "null", absl::StrJoin(items, ",\n  "), agree, disagree,
      skips, results.size(), transient, false_pin);
  HumanOutput(output) << absl::StrFormat(
      "fidelity on %s against the %s model: %d/%d scenarios agree, %d disagree, %d skipped%s\n",
      caps.kernel, options.model_policy, agree, results.size(), disagree, skips,
      interrupted ? " (interrupted: partial results)" : "");
  const int status = bad > 0        ? kExitBadInput
                     : disagree > 0 ? kExitViolation
                     : interrupted  ? kExitInterrupted
                                    : kExitOk;
  if (!output.empty()) return WriteOutputOrExit(output, json, status);
  if (absl::GetFlag(FLAGS_json)) std::cout << json;
  return FinishStandardOutput(status);
}

int HostCommand(const std::vector<std::string>& args) {
  // `pinsplit host fidelity ...` is `pinsplit fidelity ...`.
  if (args.size() >= 2 && args[1] == "fidelity") {
    return FidelityCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (args.size() != 2 || args[1] != "false-pin") {
    ExitBadInput("usage: pinsplit host false-pin | pinsplit host fidelity [FILES...]");
  }
  const std::string output = absl::GetFlag(FLAGS_output);
  CheckOutputOrExit(output);
  NoteFlagsThatDoNotApply({"impl", "policy", "quiet", "target", "model"}, "host false-pin");
  const int max_refs = absl::GetFlag(FLAGS_max_refs);
  if (max_refs < 1 || max_refs > 65536) ExitBadInput("--max_refs takes 1..65536");
  const host::HostCapabilities caps = host::ProbeHost();
  if (absl::Status s = host::BackendUsable(caps); !s.ok()) {
    HumanOutput(output) << "skipped: " << s.message() << "\n";
    return kExitBadInput;
  }
  host::InstallHostStopHandlers();
  absl::StatusOr<host::FalsePinResult> r =
      host::MeasureFalsePin(Options(), static_cast<std::uint32_t>(max_refs), &std::cerr);
  host::RestoreHostStopHandlers();
  if (!r.ok()) {
    std::cerr << "false-pin: " << r.status().message() << "\n";
    return absl::IsCancelled(r.status()) ? kExitInterrupted : kExitBadInput;
  }
  const auto num = [](const std::optional<std::uint32_t>& v) {
    return v ? absl::StrCat(*v) : std::string("never");
  };
  HumanOutput(output) << absl::StrFormat(
      "extra references on an exclusive page, in a process that has pinned before, at which fork "
      "copies it (up to %d):\n  kernel %s: %s\n  model, anon-exclusive on bias: %s\n  model, "
      "split word: %s\n  kernel without an earlier pin, %d references: fork %s\n  kernel, "
      "runs near the edge (references: copies/runs): %s\n",
      r->max_refs, caps.kernel, num(r->host_copy_threshold), num(r->bias_model_threshold),
      num(r->split_model_threshold), r->max_refs, r->host_control_copied ? "copies" : "shares",
      absl::StrJoin(r->edge, " ", [](std::string* out, const host::FalsePinResult::Edge& e) {
        absl::StrAppendFormat(out, "%d: %d/%d", e.refs, e.copies, e.runs);
      }));
  const std::string json =
      absl::StrFormat("{\"kind\": \"false_pin\", \"run\": %s, \"kernel\": %s, \"false_pin\": %s}\n",
                      RunInfoJson(), JsonString(caps.kernel), host::FalsePinJson(*r));
  if (!output.empty()) return WriteOutputOrExit(output, json, kExitOk);
  if (absl::GetFlag(FLAGS_json)) std::cout << json;
  return FinishStandardOutput(kExitOk);
}

}  // namespace pinsplit
