// SPDX-License-Identifier: MIT
#include "input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pinsplit {
namespace {

absl::Status ReadError(const std::string& path, int error) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot read '", path, "': ", std::strerror(error)));
}

absl::StatusOr<std::string> ReadAll(int fd, const std::string& path) {
  std::string out;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got == 0) return out;
    if (got < 0) {
      if (errno == EINTR) continue;
      return ReadError(path, errno);
    }
    out.append(buffer, static_cast<std::size_t>(got));
  }
}

}  // namespace

absl::StatusOr<std::string> ReadInputFile(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("empty input path");
  if (path == "-") return ReadAll(STDIN_FILENO, "standard input");
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return ReadError(path, errno);
  struct stat info {};
  if (fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read '", path, "': it is a directory, not a file"));
  }
  absl::StatusOr<std::string> text = ReadAll(fd, path);
  close(fd);
  return text;
}

bool HoldsNoOperations(const std::string& text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (const std::size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    if (!absl::StripAsciiWhitespace(line).empty()) return false;
  }
  return true;
}

}  // namespace pinsplit
