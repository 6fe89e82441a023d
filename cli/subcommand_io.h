// SPDX-License-Identifier: MIT
// What every pinsplit subcommand does at its edges, in one place so that each command (and the
// ones added later in cli/*_command.cc) gives the same errors and exit codes (docs/cli.md):
//
//   input    ReadInputOrExit: '-' is stdin; a directory, a missing or unreadable file is exit 2
//            naming the path and errno's reason. WarnIfNoOperations: an empty script is not a
//            pass over nothing; it gets a warning on stderr.
//   flags    CheckImplOrExit / CheckPolicyOrExit: a value is checked whether or not the flag
//            applies to what runs (exit 2 with the known names); NoteFlagsThatDoNotApply
//            (command_line.h) says when a set flag is ignored.
//   output   CheckOutputOrExit before the work, WriteOutputOrExit after it (testing/output_file.h:
//            atomic for regular files, in place for devices, never a temp left behind);
//            FinishStandardOutput (command_line.h) turns lost stdout into exit 2.
#pragma once

#include <string>
#include <string_view>

namespace pinsplit {

std::string ReadInputOrExit(const std::string& path);

// "PROGRAM: warning: PATH holds no operations; WHAT" on stderr when `text` has no operation.
// Returns whether it warned.
bool WarnIfNoOperations(const std::string& path, const std::string& text, const std::string& what);

// An empty name is accepted (the default); anything else must name a counter MakeRefcount or
// the deterministic (interleave) registry knows, broken test variants included.
void CheckImplOrExit(const std::string& impl);

// Must be one of mm::KnownPolicies().
void CheckPolicyOrExit(const std::string& policy);

// Exit 2 ("cannot write 'P': it is a directory", ...) when `path` could not be written; "" and
// "-" (standard output) always pass.
void CheckOutputOrExit(const std::string& path);

// Writes `contents` to `path` ("" or "-": standard output) and returns the exit status:
// `exit_status` when everything was written, else an error on stderr and 2.
int WriteOutputOrExit(const std::string& path, std::string_view contents, int exit_status);

}  // namespace pinsplit
