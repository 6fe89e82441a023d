// SPDX-License-Identifier: MIT
#include "version.h"

namespace pinsplit {

std::string_view ProjectVersion() { return PINSPLIT_VERSION; }

std::string VersionLine(std::string_view program) {
  std::string line(program);
  line.append(" ").append(ProjectVersion()).append(" (git ").append(BuildGitRevision());
  return line.append(")");
}

}  // namespace pinsplit
