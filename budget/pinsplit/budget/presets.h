// SPDX-License-Identifier: MIT
// The shipped workloads (budget/workloads/*.workload), compiled into the program so that
// `pinsplit budget --workload=NAME` works from any directory. The build generates the table
// from the files; a preset is parsed exactly like a file given by path.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pinsplit/budget/workload.h"

namespace pinsplit::budget {

struct PresetText {
  const char* name;
  const char* text;
};

// Every preset, by name.
const std::vector<PresetText>& PresetTexts();
std::vector<std::string> PresetNames();

// Parses preset `name`; its file is recorded as "budget/workloads/NAME.workload".
// NotFound when there is no such preset.
absl::StatusOr<Workload> LoadPreset(const std::string& name);

}  // namespace pinsplit::budget
