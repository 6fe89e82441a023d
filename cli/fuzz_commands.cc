#include "fuzz_commands.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "command_line.h"
#include "fuzz_input.h"
#include "interleave_replay.h"
#include "pinsplit/interleave_script.h"

ABSL_FLAG(std::string, target, "",
          "decode/encode: the fuzz target whose input format to use (refcount_ops, interleave, "
          "mm_ops; for mm_ops, --policy picks the policy)");
ABSL_FLAG(std::string, output, "",
          "decode/encode/fidelity/host: write to this file instead of stdout");

namespace pinsplit {
namespace {

std::string ReadOrExit(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) ExitBadInput(absl::StrCat("cannot read '", path, "'"));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int WriteOut(const std::string& data) {
  const std::string path = absl::GetFlag(FLAGS_output);
  if (path.empty()) {
    std::cout << data;
    return std::cout.good() ? kExitOk : kExitBadInput;
  }
  // Written next to the destination and renamed, so a build never sees half a file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << data;
    if (!out) ExitBadInput(absl::StrCat("cannot write '", tmp, "'"));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    ExitBadInput(absl::StrCat("cannot rename '", tmp, "' to '", path, "'"));
  }
  return kExitOk;
}

std::string TargetOrExit(const char* command) {
  std::string target = absl::GetFlag(FLAGS_target);
  if (target.empty()) {
    ExitBadInput(absl::StrCat(command, " needs --target (",
                              absl::StrJoin(FuzzTargetsWithCodec(), ", "), ")"));
  }
  return target;
}

std::string ImplsHeader(const std::string& text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::string_view rest = absl::StripLeadingAsciiWhitespace(line);
    if (absl::ConsumePrefix(&rest, "# impls:")) {
      std::vector<std::string> names = absl::StrSplit(rest, ' ', absl::SkipWhitespace());
      if (!names.empty()) return names[0];
    }
  }
  return "";
}

}  // namespace

int ReplayInterleave(const std::string& path, const std::string& text, const std::string& impl,
                     bool quiet) {
  absl::StatusOr<InterleaveScript> script = ParseInterleaveScript(text);
  if (!script.ok()) {
    std::cerr << path << ": " << script.status().message() << "\n";
    return kExitBadInput;
  }
  std::string counter = impl.empty() ? ImplsHeader(text) : impl;
  if (counter.empty()) counter = "split";
  InterleaveOptions options;
  options.record_accesses = !quiet;
  absl::StatusOr<InterleaveRun> run = ReplayInterleaveScript(*script, counter, options);
  if (!run.ok()) {
    if (absl::StrContains(run.status().message(), "unknown counter")) {
      ExitBadInput(std::string(run.status().message()));
    }
    std::cerr << path << ": " << run.status().message() << "\n";
    return kExitBadInput;
  }
  std::cout << "replay " << path << " on " << run->counter << " (interleave, "
            << script->threads.size() << " threads)\n";
  if (!quiet) {
    std::cout << FormatInterleaveRun(*script, *run);
  }
  for (const std::string& f : run->failures) std::cerr << path << ": " << f << "\n";
  std::cout << absl::StrCat(run->schedule.step_threads.size(), " steps, ",
                            run->schedule.choices.size(), " decisions, ",
                            run->verdict.linearizable ? "linearizable" : "NOT linearizable", ", ",
                            run->failures.size(),
                            " failure(s): ", run->failures.empty() ? "PASS" : "FAIL")
            << "\n";
  return run->failures.empty() ? kExitOk : kExitViolation;
}

int DecodeCommand(const std::vector<std::string>& args, const std::string& impl,
                  const std::string& policy) {
  if (args.size() != 2) ExitBadInput("decode takes exactly one FILE");
  const std::string target = TargetOrExit("decode");
  DecodeOptions options;
  options.impl = impl;
  options.policy = policy;
  absl::StatusOr<std::string> text = DecodeFuzzInput(target, ReadOrExit(args[1]), options);
  if (!text.ok()) ExitBadInput(std::string(text.status().message()));
  return WriteOut(*text);
}

int EncodeCommand(const std::vector<std::string>& args, const std::string& impl) {
  if (args.size() != 2) ExitBadInput("encode takes exactly one FILE");
  const std::string target = TargetOrExit("encode");
  DecodeOptions options;
  options.impl = impl;
  absl::StatusOr<std::string> bytes = EncodeFuzzInput(target, ReadOrExit(args[1]), options);
  if (!bytes.ok()) {
    std::cerr << args[1] << ": " << bytes.status().message() << "\n";
    return kExitBadInput;
  }
  return WriteOut(*bytes);
}

}  // namespace pinsplit
