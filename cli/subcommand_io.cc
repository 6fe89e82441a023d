// SPDX-License-Identifier: MIT
#include "subcommand_io.h"

#include <iostream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "command_line.h"
#include "deterministic_refcounts.h"
#include "input_file.h"
#include "mm_interleave.h"
#include "output_file.h"
#include "pinsplit/any_refcount.h"
#include "pinsplit/mm/policy.h"
#include "pinsplit/script_lexer.h"

namespace pinsplit {

std::string ReadInputOrExit(const std::string& path) {
  absl::StatusOr<std::string> text = ReadInputFile(path);
  if (!text.ok()) ExitCannot(std::string(text.status().message()));
  return *std::move(text);
}

bool WarnIfNoOperations(const std::string& path, const std::string& text, const std::string& what) {
  if (!HoldsNoOperations(text)) return false;
  std::cerr << "pinsplit: warning: " << (path == "-" ? "standard input" : path)
            << " holds no operations; " << what << "\n";
  return true;
}

void CheckImplOrExit(const std::string& impl) {
  if (impl.empty() || MakeRefcount(impl).ok() || MakeDeterministicRefcount(impl).ok() ||
      ParseVariant(impl).ok()) {
    return;
  }
  ExitBadInput(absl::StrCat(
      "unknown counter ", Quoted(impl), " for --impl; known: ",
      absl::StrJoin(KnownRefcounts(), ", "), ", ", absl::StrJoin(BrokenRefcountNames(), ", "),
      " (interleave scripts only); mm-interleave model variants: ", KnownVariantNames()));
}

void CheckPolicyOrExit(const std::string& policy) {
  // "host" is no model policy: replay runs the script on the running kernel (docs/host.md).
  if (policy == "host" || mm::MakePolicy(policy).ok()) return;
  ExitBadInput(absl::StrCat("unknown policy ", Quoted(policy), " for --policy; known: ",
                            absl::StrJoin(mm::KnownPolicies(), ", "), ", host"));
}

void CheckOutputOrExit(const std::string& path) {
  if (path.empty()) return;
  if (absl::Status status = CheckOutputPath(path); !status.ok()) {
    ExitCannot(std::string(status.message()));
  }
}

int WriteOutputOrExit(const std::string& path, std::string_view contents, int exit_status) {
  if (path.empty() || path == "-") {
    std::cout << contents;
    return FinishStandardOutput(exit_status);
  }
  if (absl::Status status = WriteOutputFile(path, contents); !status.ok()) {
    ExitCannot(std::string(status.message()));
  }
  return FinishStandardOutput(exit_status);
}

}  // namespace pinsplit
