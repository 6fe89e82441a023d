// SPDX-License-Identifier: MIT
#include "fuzz_commands.h"

#include <algorithm>
#include <iostream>

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
#include "pinsplit/script_lexer.h"
#include "subcommand_io.h"

ABSL_FLAG(std::string, target, "",
          "decode/encode: the fuzz target whose input format to use (refcount_ops, interleave, "
          "mm_ops; for mm_ops, --policy picks the policy); budget: the target refusal probability "
          "(default 1e-6)");
ABSL_FLAG(std::string, output, "",
          "decode/encode/budget/fidelity/host: write to this file instead of stdout");

namespace pinsplit {
namespace {

std::string TargetOrExit(const char* command) {
  std::string target = absl::GetFlag(FLAGS_target);
  const std::vector<std::string> known = FuzzTargetsWithCodec();
  if (target.empty()) {
    ExitBadInput(absl::StrCat(command, " needs --target (", absl::StrJoin(known, ", "), ")"));
  }
  if (std::find(known.begin(), known.end(), target) == known.end()) {
    ExitBadInput(absl::StrCat("unknown fuzz target ", Quoted(target),
                              " for --target; known: ", absl::StrJoin(known, ", ")));
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
                            script->misuse_thread() >= 0 ? "racing misuse judged by its promises"
                            : run->verdict.linearizable  ? "linearizable"
                                                         : "NOT linearizable",
                            ", ", run->failures.size(),
                            " failure(s): ", run->failures.empty() ? "PASS" : "FAIL")
            << "\n";
  return run->failures.empty() ? kExitOk : kExitViolation;
}

int DecodeCommand(const std::vector<std::string>& args, const std::string& impl,
                  const std::string& policy) {
  if (args.size() != 2) ExitBadInput("decode takes exactly one FILE");
  const std::string target = TargetOrExit("decode");
  NoteFlagsThatDoNotApply({"json", "quiet"}, "decode");
  if (target == "mm_ops") {
    NoteFlagsThatDoNotApply({"impl"}, "decode --target=mm_ops (--policy picks the counter)");
  } else if (target == "mm_interleave") {
    // --impl names the model variant (correct, broken:...), --policy overrides the input's.
  } else {
    NoteFlagsThatDoNotApply({"policy"}, absl::StrCat("decode --target=", target));
  }
  const std::string output = absl::GetFlag(FLAGS_output);
  CheckOutputOrExit(output);
  DecodeOptions options;
  options.impl = impl;
  options.policy = policy;
  // mm_interleave inputs name their policy: --policy overrides it only when given.
  if (target == "mm_interleave" && !FlagWasSet("policy")) options.policy.clear();
  absl::StatusOr<std::string> text = DecodeFuzzInput(target, ReadInputOrExit(args[1]), options);
  if (!text.ok()) {
    std::cerr << args[1] << ": " << text.status().message() << "\n";
    return kExitBadInput;
  }
  return WriteOutputOrExit(output, *text, kExitOk);
}

int EncodeCommand(const std::vector<std::string>& args, const std::string& impl) {
  if (args.size() != 2) ExitBadInput("encode takes exactly one FILE");
  const std::string target = TargetOrExit("encode");
  NoteFlagsThatDoNotApply({"json", "quiet", "policy"}, "encode");
  if (target != "interleave") {
    NoteFlagsThatDoNotApply({"impl"}, absl::StrCat("encode --target=", target));
  }
  const std::string output = absl::GetFlag(FLAGS_output);
  CheckOutputOrExit(output);
  const std::string text = ReadInputOrExit(args[1]);
  WarnIfNoOperations(args[1], text, "the fuzz input will be empty");
  DecodeOptions options;
  options.impl = impl;
  absl::StatusOr<std::string> bytes = EncodeFuzzInput(target, text, options);
  if (!bytes.ok()) {
    std::cerr << args[1] << ": " << bytes.status().message() << "\n";
    return kExitBadInput;
  }
  return WriteOutputOrExit(output, *bytes, kExitOk);
}

}  // namespace pinsplit
