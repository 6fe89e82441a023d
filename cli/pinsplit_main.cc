// SPDX-License-Identifier: MIT
// pinsplit: replays op scripts against the counters (and, later, the mm model).
//
//   pinsplit replay [--impl=split|split:R/W/O|bias|plain] [--quiet] FILE
//
// Exit status: 0 every assertion held, 1 one failed (line and difference printed), 2 bad
// script or bad flags (line and column printed).
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "budget_command.h"
#include "command_line.h"
#include "fuzz_commands.h"
#include "host_command.h"
#include "mm_interleave_command.h"
#include "pinsplit/any_refcount.h"
#include "pinsplit/interleave_script.h"
#include "pinsplit/mm/mm_replay.h"
#include "pinsplit/op_script.h"
#include "pinsplit/refcount_replay.h"
#include "pinsplit/script_lexer.h"
#include "run_info.h"
#include "subcommand_io.h"

ABSL_FLAG(std::string, impl, "",
          "counter scheme: split (the seed layout 4/4/24), split:R/W/O, bias or plain; default "
          "split for counter scripts, the policy's own counter for process-level scripts");
ABSL_FLAG(std::string, policy, "split",
          "mm policy for process-level scripts: mapcount, refcount, anon-exclusive, split, ideal; "
          "host replays on the running kernel (docs/host.md)");
ABSL_FLAG(bool, json, false,
          "compare, budget, fidelity, host false-pin: print JSON (kind \"compare\", \"budget\", "
          "\"fidelity\", \"false_pin\") instead of a table");
ABSL_FLAG(bool, quiet, false, "print only failures and the verdict, not every step");

namespace pinsplit {
namespace {

constexpr char kUsage[] =
    "pinsplit: replay op scripts against pinsplit's counters.\n\n"
    "Usage:\n"
    "  pinsplit replay [--impl=NAME] [--policy=NAME] [--quiet] FILE\n"
    "        run FILE ('-' for stdin) and check its assertions; a script whose first line is\n"
    "        `spawn` runs on the mm model under --policy, with the truth oracle watching\n"
    "        a script with `thread N OP` lines runs its threads under the deterministic\n"
    "        scheduler and checks linearizability (--impl, else its `# impls:` line, else split)\n"
    "  pinsplit compare [--json] FILE\n"
    "        run a process-level script under every policy and tabulate violations and copies\n"
    "  pinsplit decode --target=NAME [--impl=NAME] [--policy=NAME] [--output=FILE] FILE\n"
    "        turn a fuzz input (corpus entry, crash) into an op script that replay reproduces\n"
    "  pinsplit encode --target=NAME [--impl=NAME] [--output=FILE] FILE\n"
    "        turn an op script into a fuzz input (seed corpora)\n"
    "  pinsplit fidelity [--model=POLICY] [--gup_test] [--json] [--output=F] [--false_pin]\n"
    "                    [--random=N] [FILES...]      (also: pinsplit host fidelity ...)\n"
    "        replay scripts (default scenarios/mm/) on the kernel and a model policy\n"
    "        (default anon-exclusive)\n"
    "  pinsplit host false-pin [--json] [--output=F]  references that make the kernel's fork copy\n"
    "  pinsplit host-check                            what the kernel offers the host backend\n"
    "  pinsplit impls                                 list the counter names --impl accepts\n"
    "  pinsplit budget [--workload=FILE|PRESET,...] [--layout=R/W/O,...] [--target=P] [--retry]\n"
    "                  [--json] [--output=FILE]\n"
    "        refusal rates per layout and workload, attack prices, verdict (docs/budget.md)\n\n"
    "Exit status: 0 all assertions hold, 1 an assertion failed or a violation was found, 2 bad\n"
    "input: a bad script, flag or value, an unreadable input, an output that cannot be written\n"
    "(standard output included), or a checker's own limit. docs/cli.md says what each command\n"
    "leaves behind on failure; the language is documented in docs/op-script.md.";

int ReplayCounter(const std::string& path, const std::string& text) {
  absl::StatusOr<CounterScript> script = ParseCounterScript(text);
  if (!script.ok()) {
    std::cerr << path << ": " << script.status().message() << "\n";
    return kExitBadInput;
  }
  const std::string impl = absl::GetFlag(FLAGS_impl).empty() ? "split" : absl::GetFlag(FLAGS_impl);
  absl::StatusOr<std::unique_ptr<AnyRefcount>> counter = MakeRefcount(impl);
  if (!counter.ok()) {
    ExitBadInput(absl::StrCat(Quoted(impl),
                              " runs only interleave scripts; counter scripts take one of: ",
                              absl::StrJoin(KnownRefcounts(), ", ")));
  }
  const bool quiet = absl::GetFlag(FLAGS_quiet);
  std::cout << "replay " << path << " on " << (*counter)->name() << "\n";
  absl::StatusOr<ReplayResult> result =
      ReplayCounterScript(*script, **counter, quiet ? nullptr : &std::cout);
  if (!result.ok()) {
    std::cerr << path << ": " << result.status().message() << "\n";
    return kExitBadInput;
  }
  for (const std::string& failure : result->failures) std::cerr << path << ": " << failure << "\n";
  std::cout << absl::StrCat(result->steps, " steps, ", result->failures.size(),
                            " assertion(s) failed: ", result->failures.empty() ? "PASS" : "FAIL")
            << "\n";
  return result->failures.empty() ? kExitOk : kExitViolation;
}

absl::StatusOr<mm::MmScript> ParseMmOrReport(const std::string& path, const std::string& text) {
  absl::StatusOr<mm::MmScript> script = mm::ParseMmScript(text);
  if (!script.ok()) std::cerr << path << ": " << script.status().message() << "\n";
  return script;
}

int ReplayMm(const std::string& path, const std::string& text) {
  if (absl::GetFlag(FLAGS_policy) == "host")
    return HostReplayCommand(path, text, absl::GetFlag(FLAGS_quiet));
  absl::StatusOr<mm::MmScript> script = ParseMmOrReport(path, text);
  if (!script.ok()) return kExitBadInput;
  mm::MmOptions options;
  options.policy = absl::GetFlag(FLAGS_policy);
  options.impl = absl::GetFlag(FLAGS_impl);
  const bool quiet = absl::GetFlag(FLAGS_quiet);
  std::cout << "replay " << path << " under policy " << options.policy << "\n";
  absl::StatusOr<mm::MmReplayResult> result =
      mm::ReplayMmScript(*script, options, quiet ? nullptr : &std::cout);
  if (!result.ok()) {
    if (absl::IsInvalidArgument(result.status())) {
      ExitBadInput(std::string(result.status().message()));
    }
    std::cerr << path << ": " << result.status().message() << "\n";
    return kExitBadInput;
  }
  for (const std::string& v : result->violations) std::cerr << path << ": " << v << "\n";
  for (const std::string& f : result->failures) std::cerr << path << ": " << f << "\n";
  const bool pass = result->violations.empty() && result->failures.empty();
  std::cout << absl::StrCat(result->steps, " steps on ", result->counter, ": ",
                            result->violations.size(), " violation(s), ", result->failures.size(),
                            " assertion(s) failed: ", pass ? "PASS" : "FAIL")
            << "\n";
  return pass ? kExitOk : kExitViolation;
}

int Replay(const std::vector<std::string>& args) {
  if (args.size() != 2) ExitBadInput("replay takes exactly one FILE");
  NoteFlagsThatDoNotApply({"json", "target", "output"}, "replay");
  const std::string text = ReadInputOrExit(args[1]);
  WarnIfNoOperations(args[1], text, "nothing to check");
  int status;
  if (LooksLikeMmInterleaveScript(text)) {
    status = ReplayMmInterleaveCommand(args[1], text, absl::GetFlag(FLAGS_quiet));
  } else if (LooksLikeInterleaveScript(text)) {
    NoteFlagsThatDoNotApply({"policy"}, "an interleave script (it runs on one counter)");
    status = ReplayInterleave(args[1], text, absl::GetFlag(FLAGS_impl), absl::GetFlag(FLAGS_quiet));
  } else if (mm::IsMmScript(text)) {
    status = ReplayMm(args[1], text);
  } else {
    NoteFlagsThatDoNotApply({"policy"}, "a counter script (no spawn: it runs on one counter)");
    status = ReplayCounter(args[1], text);
  }
  return FinishStandardOutput(status);
}

int Compare(const std::vector<std::string>& args) {
  if (args.size() != 2) ExitBadInput("compare takes exactly one FILE");
  NoteFlagsThatDoNotApply({"impl", "policy"},
                          "compare (it runs every policy, each on its own counter)");
  NoteFlagsThatDoNotApply({"quiet", "target", "output"}, "compare");
  const std::string text = ReadInputOrExit(args[1]);
  if (WarnIfNoOperations(args[1], text, "compare needs a process-level script")) {
    return kExitBadInput;
  }
  if (absl::Status bom = CheckNoByteOrderMark(text); !bom.ok()) {
    std::cerr << args[1] << ": " << bom.message() << "\n";
    return kExitBadInput;
  }
  if (!mm::IsMmScript(text)) {
    std::cerr << args[1]
              << ": compare needs a process-level script (its first operation is spawn)\n";
    return kExitBadInput;
  }
  absl::StatusOr<mm::MmScript> script = ParseMmOrReport(args[1], text);
  if (!script.ok()) return kExitBadInput;
  absl::StatusOr<std::vector<mm::MmReplayResult>> rows = mm::ComparePolicies(*script);
  if (!rows.ok()) {
    std::cerr << args[1] << ": " << rows.status().message() << "\n";
    return kExitBadInput;
  }
  const std::optional<HostCompareRow> host = HostCompareRowFor(*script);
  const std::string out =
      absl::GetFlag(FLAGS_json)
          ? WithHostRow(mm::FormatCompareJson(*rows, args[1], RunInfoJson()), host, true)
          : WithHostRow(mm::FormatCompareTable(*rows), host, false);
  return WriteOutputOrExit("-", out, kExitOk);
}

}  // namespace
}  // namespace pinsplit

int main(int argc, char** argv) {
  using namespace pinsplit;
  const std::vector<std::string> args = ParseCommandLineOrExit(argc, argv, kUsage);
  if (args.empty()) {
    ExitBadInput(
        "missing command (replay, compare, decode, encode, impls, budget, fidelity, host, "
        "host-check)");
  }
  // Values are checked whatever the command: a typo is an error even where a flag is ignored.
  CheckImplOrExit(absl::GetFlag(FLAGS_impl));
  CheckPolicyOrExit(absl::GetFlag(FLAGS_policy));
  if (args[0] == "replay") return Replay(args);
  if (args[0] == "compare") return Compare(args);
  if (args[0] == "decode") {
    return DecodeCommand(args, absl::GetFlag(FLAGS_impl), absl::GetFlag(FLAGS_policy));
  }
  if (args[0] == "encode") return EncodeCommand(args, absl::GetFlag(FLAGS_impl));
  if (args[0] == "budget") return BudgetCommand(args);
  if (args[0] == "fidelity") return FidelityCommand(args);
  if (args[0] == "host") return HostCommand(args);
  if (args[0] == "host-check") return HostCheckCommand(args);
  if (args[0] == "impls") {
    if (args.size() != 1) ExitBadInput("impls takes no argument");
    NoteFlagsThatDoNotApply({"impl", "policy", "json", "quiet", "target", "output"}, "impls");
    return WriteOutputOrExit("-", absl::StrCat(absl::StrJoin(KnownRefcounts(), "\n"), "\n"),
                             kExitOk);
  }
  ExitBadInput(absl::StrCat(
      "unknown command ", Quoted(args[0]),
      " (replay, compare, decode, encode, impls, budget, fidelity, host, host-check)"));
}
