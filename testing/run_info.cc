// SPDX-License-Identifier: MIT
#include "run_info.h"

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "version.h"

namespace pinsplit {

std::string RunInfoJson() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char started[32], id_time[32];
  std::strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &utc);
  std::strftime(id_time, sizeof id_time, "%Y-%m-%dT%H-%M-%SZ", &utc);
  const char* env = std::getenv("PINSPLIT_GIT_REVISION");
  const std::string revision =
      env != nullptr && *env != '\0' ? std::string(env) : std::string(BuildGitRevision());
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return absl::StrFormat(
      "{\"id\": %s, \"started\": %s, \"version\": %s, \"git_revision\": %s, \"host\": %s, "
      "\"cpus\": %d, "
      "\"compiler\": %s, \"flags\": %s, \"preset\": %s}",
      JsonString(absl::StrCat(id_time, "-", revision)), JsonString(started),
      JsonString(ProjectVersion()), JsonString(revision), JsonString(host),
      static_cast<int>(std::thread::hardware_concurrency()),
      JsonString(
          absl::StrCat("clang ", __clang_major__, ".", __clang_minor__, ".", __clang_patchlevel__)),
      JsonString(PINSPLIT_BUILD_FLAGS), JsonString(PINSPLIT_PRESET));
}

}  // namespace pinsplit
