// SPDX-License-Identifier: MIT
#include "command_line.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <set>
#include <string_view>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pinsplit/script_lexer.h"
#include "version.h"

namespace pinsplit {
namespace {

std::string program_name = "pinsplit";
std::set<std::string> flags_set;  // names of the flags given on the command line

// Abseil's own flags live in absl/; a program's flags are the ones defined anywhere else.
bool IsProgramFlag(const absl::CommandLineFlag& flag) {
  return !absl::StrContains(flag.Filename(), "absl/");
}

void PrintHelp(const std::string& usage) {
  std::cout << usage << "\n\nFlags:\n";
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (IsProgramFlag(*flag)) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  for (const absl::CommandLineFlag* flag : flags) {
    std::cout << "  --" << flag->Name() << " (default: " << flag->DefaultValue() << ")\n      "
              << flag->Help() << "\n";
  }
  std::cout << "  --version\n      print the version and the git revision of the build, exit 0\n";
}

}  // namespace

void ExitBadInput(const std::string& what) {
  std::cerr << program_name << ": error: " << what << " (see --help)\n";
  std::exit(kExitBadInput);
}

void ExitCannot(const std::string& what) {
  std::cerr << program_name << ": error: " << what << "\n";
  std::exit(kExitBadInput);
}

int FinishStandardOutput(int exit_status) {
  std::cout.flush();
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0 && !std::ferror(stdout);
  const int error = errno;
  if (flushed && std::cout.good()) return exit_status;
  std::cerr << program_name << ": error: cannot write standard output"
            << (error != 0 ? absl::StrCat(": ", std::strerror(error)) : "") << "\n";
  return kExitBadInput;
}

bool FlagWasSet(const std::string& name) { return flags_set.contains(name); }

void NoteFlagsThatDoNotApply(const std::vector<std::string>& flag_names,
                             const std::string& context) {
  for (const std::string& name : flag_names) {
    if (FlagWasSet(name)) {
      std::cerr << program_name << ": note: --" << name << " does not apply to " << context
                << "; ignored\n";
    }
  }
}

std::vector<std::string> ParseCommandLineOrExit(int argc, char** argv, const std::string& usage) {
  if (argc > 0) {
    program_name = argv[0];
    if (const std::size_t slash = program_name.rfind('/'); slash != std::string::npos) {
      program_name = program_name.substr(slash + 1);
    }
  }
  absl::SetProgramUsageMessage(usage);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const std::size_t eq = arg.find('=');
    const std::string name(arg.substr(0, eq));
    if (name == "help" || name == "h" || name == "helpfull" || name == "helpshort") {
      PrintHelp(usage);
      std::exit(kExitOk);
    }
    if (name == "version") {
      std::cout << VersionLine(program_name) << "\n";
      std::exit(FinishStandardOutput(kExitOk));
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    std::string value;
    if (eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
    } else if (flag == nullptr && absl::StartsWith(name, "no")) {
      flag = absl::FindCommandLineFlag(name.substr(2));
      if (flag != nullptr && !flag->IsOfType<bool>()) flag = nullptr;
      value = "false";
    } else if (flag != nullptr && flag->IsOfType<bool>()) {
      value = "true";
    } else if (flag != nullptr) {
      if (i + 1 >= argc) ExitBadInput(absl::StrCat("--", name, " needs a value"));
      value = argv[++i];
    }
    if (flag == nullptr || !IsProgramFlag(*flag)) {
      ExitBadInput(absl::StrCat("unknown flag ", Quoted(absl::StrCat("--", name))));
    }
    flags_set.insert(std::string(flag->Name()));
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      ExitBadInput(absl::StrCat("bad value ", Quoted(value), " for --", name, ": ", Quoted(error)));
    }
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> out;
  for (std::size_t i = 1; i < positional.size(); ++i) out.emplace_back(positional[i]);
  return out;
}

}  // namespace pinsplit
