// pinsplit: replays op scripts against the counters (and, later, the mm model).
//
//   pinsplit replay [--impl=split|split:R/W/O|bias|plain] [--quiet] FILE
//
// Exit status: 0 every assertion held, 1 one failed (line and difference printed), 2 bad
// script or bad flags (line and column printed).
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "command_line.h"
#include "pinsplit/any_refcount.h"
#include "pinsplit/op_script.h"
#include "pinsplit/refcount_replay.h"

ABSL_FLAG(std::string, impl, "split",
          "counter scheme: split (the seed layout 4/4/24), split:R/W/O, bias or plain");
ABSL_FLAG(bool, quiet, false, "print only failures and the verdict, not every step");

namespace pinsplit {
namespace {

constexpr char kUsage[] =
    "pinsplit: replay op scripts against pinsplit's counters.\n\n"
    "Usage:\n"
    "  pinsplit replay [--impl=NAME] [--quiet] FILE   run FILE ('-' for stdin), check its\n"
    "                                                 assertions\n"
    "  pinsplit impls                                 list the counter names --impl accepts\n\n"
    "Exit status: 0 all assertions hold, 1 an assertion failed, 2 bad script or flags.\n"
    "The language is documented in docs/op-script.md.";

std::string ReadFileOrExit(const std::string& path) {
  std::stringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
    return buffer.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) ExitBadInput(absl::StrCat("cannot read '", path, "'"));
  buffer << in.rdbuf();
  return buffer.str();
}

int Replay(const std::vector<std::string>& args) {
  if (args.size() != 2) ExitBadInput("replay takes exactly one FILE");
  const std::string& path = args[1];
  const std::string text = ReadFileOrExit(path);
  absl::StatusOr<CounterScript> script = ParseCounterScript(text);
  if (!script.ok()) {
    std::cerr << path << ": " << script.status().message() << "\n";
    return kExitBadInput;
  }
  absl::StatusOr<std::unique_ptr<AnyRefcount>> counter = MakeRefcount(absl::GetFlag(FLAGS_impl));
  if (!counter.ok()) ExitBadInput(std::string(counter.status().message()));
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

}  // namespace
}  // namespace pinsplit

int main(int argc, char** argv) {
  using namespace pinsplit;
  const std::vector<std::string> args = ParseCommandLineOrExit(argc, argv, kUsage);
  if (args.empty()) ExitBadInput("missing command (replay, impls)");
  if (args[0] == "replay") return Replay(args);
  if (args[0] == "impls") {
    std::cout << absl::StrJoin(KnownRefcounts(), "\n") << "\n";
    return kExitOk;
  }
  ExitBadInput(absl::StrCat("unknown command '", args[0], "'"));
}
