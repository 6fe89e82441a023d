// SPDX-License-Identifier: MIT
#include "budget_command.h"

#include <atomic>
#include <csignal>
#include <iostream>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "command_line.h"
#include "pinsplit/budget/budget_run.h"
#include "pinsplit/budget/presets.h"
#include "pinsplit/script_lexer.h"
#include "run_info.h"
#include "subcommand_io.h"

ABSL_FLAG(std::vector<std::string>, workload, {},
          "budget: workload files or preset names, comma-separated (default: every preset)");
ABSL_FLAG(std::vector<std::string>, layout, {},
          "budget: layouts R/W/O or bias, comma-separated, or all (default: all, 325 splits and "
          "bias)");
ABSL_FLAG(bool, retry, false, "budget: a refused pin retries (3 times, after a back-off)");
// One --seed for every subcommand that draws random numbers: budget's simulation (default 1)
// and fidelity --random (default from the clock); host_command.cc declares it.
ABSL_FLAG(std::string, seed, "",
          "budget: the simulation's seed (default 1); fidelity --random: the first script's seed "
          "(default: from the clock; always printed)");
ABSL_FLAG(std::uint64_t, sim_arrivals, 100000,
          "budget: transient arrivals each simulation measures (0: no simulation)");

// Shared with decode/encode (fuzz_commands.cc) and compare (pinsplit_main.cc).
ABSL_DECLARE_FLAG(std::string, target);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(bool, json);

namespace pinsplit {
namespace {

using budget::Workload;

// Ctrl-C / SIGTERM: finish the current simulation step, report what is done, exit 130
// (kExitInterrupted).
std::atomic<bool> stop_requested{false};
extern "C" void RequestStop(int) { stop_requested.store(true, std::memory_order_relaxed); }

Workload LoadWorkloadOrExit(const std::string& spec) {
  const bool is_path =
      spec == "-" || absl::StrContains(spec, '/') || absl::EndsWith(spec, ".workload");
  if (!is_path) {
    absl::StatusOr<Workload> preset = budget::LoadPreset(spec);
    if (preset.ok()) return *std::move(preset);
    if (!absl::IsNotFound(preset.status())) ExitBadInput(std::string(preset.status().message()));
    ExitBadInput(absl::StrCat(Quoted(spec), " is neither a file (give a path) nor a preset (",
                              absl::StrJoin(budget::PresetNames(), ", "), ")"));
  }
  // '-' is standard input; a directory, a missing or unreadable file is exit 2 naming why.
  const std::string text = ReadInputOrExit(spec);
  std::string name = spec == "-" ? "stdin" : spec.substr(spec.rfind('/') + 1);
  if (absl::EndsWith(name, ".workload")) name.resize(name.size() - 9);
  absl::StatusOr<Workload> w = budget::ParseWorkload(text, name, spec);
  if (!w.ok()) {
    std::cerr << (spec == "-" ? "standard input" : spec) << ": " << w.status().message() << "\n";
    std::exit(kExitBadInput);
  }
  return *std::move(w);
}

double TargetOrExit() {
  const std::string text = absl::GetFlag(FLAGS_target);
  if (text.empty()) return 1e-6;
  double target = 0;
  if (!absl::SimpleAtod(text, &target) || !(target > 0 && target < 1)) {
    ExitBadInput(
        absl::StrCat("--target for budget is a probability in (0, 1), not ", Quoted(text)));
  }
  return target;
}

}  // namespace

int BudgetCommand(const std::vector<std::string>& args) {
  const std::string output = absl::GetFlag(FLAGS_output);
  CheckOutputOrExit(output);
  NoteFlagsThatDoNotApply({"impl", "policy", "quiet"}, "budget");
  budget::BudgetOptions options;
  options.target = TargetOrExit();
  std::vector<std::string> specs = absl::GetFlag(FLAGS_workload);
  specs.insert(specs.end(), args.begin() + 1, args.end());
  if (specs.empty()) specs = budget::PresetNames();
  for (const std::string& spec : specs) {
    if (spec.empty()) ExitBadInput("an empty --workload entry");
    options.workloads.push_back(LoadWorkloadOrExit(spec));
  }
  for (const std::string& text : absl::GetFlag(FLAGS_layout)) {
    if (text == "all") {
      options.layouts.clear();
      break;
    }
    absl::StatusOr<budget::LayoutSpec> layout = budget::ParseLayout(text);
    if (!layout.ok()) ExitBadInput(std::string(layout.status().message()));
    if (std::find(options.layouts.begin(), options.layouts.end(), *layout) ==
        options.layouts.end()) {
      options.layouts.push_back(*layout);
    }
  }
  const bool all_layouts = options.layouts.empty();
  options.sim.seed = 1;
  if (const std::string seed = absl::GetFlag(FLAGS_seed);
      !seed.empty() && !absl::SimpleAtoi(seed, &options.sim.seed)) {
    ExitBadInput(absl::StrCat("--seed takes a number from 0 to 2^64-1, not ", Quoted(seed)));
  }
  options.sim.arrivals = absl::GetFlag(FLAGS_sim_arrivals);
  options.simulate = options.sim.arrivals > 0;
  options.sim.retry.enabled = absl::GetFlag(FLAGS_retry);
  std::cerr << absl::StrCat("budget: seed ", options.sim.seed, ", ", options.workloads.size(),
                            " workload(s)\n");

  options.sim.stop = &stop_requested;
  std::signal(SIGINT, RequestStop);
  std::signal(SIGTERM, RequestStop);
  absl::StatusOr<budget::BudgetReport> report = budget::RunBudget(options, &std::cerr);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!report.ok()) {
    std::cerr << "budget: " << report.status().message() << "\n";
    return absl::IsInternal(report.status()) ? kExitViolation : kExitBadInput;
  }
  const std::string text = budget::FormatBudgetText(
      *report, all_layouts ? std::vector<budget::LayoutSpec>{} : report->layouts);
  const bool json = absl::GetFlag(FLAGS_json);
  const std::string contents = json ? budget::FormatBudgetJson(*report, RunInfoJson()) : text;
  int status = kExitOk;
  if (report->interrupted) {
    std::cerr << "budget: interrupted; the workloads finished before it are reported\n";
    status = kExitInterrupted;
  }
  if (output.empty() || output == "-") return WriteOutputOrExit(output, contents, status);
  if (json) std::cout << text;
  status = WriteOutputOrExit(output, contents, status);
  std::cerr << "budget: wrote " << output << "\n";
  return status;
}

}  // namespace pinsplit
